# The two commands of the README: `make run` and `make test`. Everything else supports them.
PORT ?= 5000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
VENDOR := static/vendor

.PHONY: run test lint bench messages clean

run: $(VENV)/.installed $(VENDOR)/.installed
	$(FLASK) db upgrade
	$(FLASK) demo-admin
	PORT=$(PORT) $(FLASK) run --host 127.0.0.1 --port $(PORT) --with-threads

test: $(VENV)/.installed $(VENDOR)/.installed
	$(BIN)/ruff check portal tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# htmx and Pico CSS come from the npm registry (package-lock.json pins them) and are served
# locally: never committed, never loaded from a CDN.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/pico.min.css
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check portal tests bench
	$(BIN)/ruff format --check portal tests bench
	$(BIN)/lint-imports

# Every user-visible string is marked (Flask-Babel); this collects them for translators.
messages: $(VENV)/.installed
	mkdir -p portal/translations
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .

bench: $(VENV)/.installed
	$(BIN)/python -m bench.history
	$(BIN)/python -m bench.review

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
