"""The bare anchors the portal is measured against, served by gunicorn like the portal: a page
of a given size rendered from a template with no query, and an endpoint that only parses JSON."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask, render_template, request

app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
ROWS = 50


@app.get("/page/<int:size>")
def page(size: int) -> str:
    """About `size` bytes of HTML: a table of ROWS rows, as long as a portal list page."""
    filler = max(size - 400, 0) // ROWS
    rows = [{"id": n, "text": f"row {n} " + "x" * max(filler - 60, 0)} for n in range(ROWS)]
    return render_template("anchor.html", rows=rows)


@app.post("/json")
def parse_json() -> tuple[str, int]:
    """What any webhook receiver does at least: read the body and parse it."""
    json.loads(request.get_data())
    return "", 202
