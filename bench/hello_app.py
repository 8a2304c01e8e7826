"""The baseline of ``make bench-api``: a bare Flask app answering "hello", served by gunicorn with the
platform's own deploy/gunicorn.conf.py (``gunicorn -c deploy/gunicorn.conf.py hello_app:app`` from
bench/), so the ratio compares the platform with what this box does with no platform at all. Any path
answers, so the bench reaches it through the gateway's own nginx config at an /api/<service>/ path."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
@app.get("/<path:anything>")
def hello(anything: str = "") -> str:
    return "hello"
