# The two commands of the README: `make run` and `make test`. Everything else supports them.
PORT ?= 5000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
VENDOR := static/vendor
CATALOGUE := portal/translations/fr/LC_MESSAGES/messages
POT ?= portal/translations/messages.pot
# Everything that marks a string for the catalogue, in Python and in templates.
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k _lp:1c,2

.PHONY: run test lint bench screenshots messages pot clean

run: $(VENV)/.installed $(VENDOR)/.installed $(CATALOGUE).mo
	$(FLASK) db upgrade
	$(FLASK) demo-admin
	PORT=$(PORT) $(FLASK) run --host 127.0.0.1 --port $(PORT) --with-threads

test: $(VENV)/.installed $(VENDOR)/.installed $(CATALOGUE).mo
	$(BIN)/ruff check portal tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# htmx, Pico CSS and the receipt's DejaVu fonts come from the npm registry (package-lock.json pins them) and are served
# locally: never committed, never loaded from a CDN.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/pico.min.css
	mkdir -p $(VENDOR)/fonts
	cp node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf node_modules/dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf \
		node_modules/dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf $(VENDOR)/fonts/
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check portal tests bench
	$(BIN)/ruff format --check portal tests bench
	$(BIN)/lint-imports

# The French catalogue is committed as text (.po); the compiled .mo is made here, never committed.
$(CATALOGUE).mo: $(CATALOGUE).po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d portal/translations -l fr

# Every user-visible string is marked (Flask-Babel). `make messages` collects them into the .pot
# and adds the new ones to the French catalogue, untranslated: translate them before committing
# (tests/unit/test_catalogue.py fails on any untranslated or fuzzy message).
pot: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) \
		--project "OneConnect portal" -o $(POT) .

messages: pot
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i $(POT) -d portal/translations -l fr

# One table of the portal's pages against a bare Flask page of the same size (bench/speed.py):
# SQLite by default, PostgreSQL with PORTAL_BENCH_DATABASE_URL; PORTAL_BENCH_SCALE=0.05 is quick.
bench: $(VENV)/.installed $(VENDOR)/.installed $(CATALOGUE).mo
	$(BIN)/python -m bench.speed
	$(BIN)/python -m bench.uploads
	$(BIN)/python -m bench.reading

# Every page of every role, at a phone's size and a laptop's, in French and in English, written to
# $(SCREENSHOTS)/<language>/<role>/<page>-<size>.png for a person to look at side by side.
SCREENSHOTS ?= screenshots
screenshots: $(VENV)/.installed $(VENDOR)/.installed $(CATALOGUE).mo
	rm -rf $(SCREENSHOTS)
	SCREENSHOTS_DIR=$(abspath $(SCREENSHOTS)) $(BIN)/pytest -q -p no:cacheprovider tests/browser/test_screens.py -k fits
	@echo "Screenshots written to $(SCREENSHOTS)/"

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
