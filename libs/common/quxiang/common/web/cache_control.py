"""Every answer of a service is ``Cache-Control: no-store`` unless its endpoint says otherwise: the
answers are one user's view of personal data (a full identity number to those entitled to it, a
list export), and no browser cache, proxy or shared computer should keep a copy."""

from __future__ import annotations

import flask

NO_STORE = "no-store"


def install_no_store(app: flask.Flask) -> None:
    app.after_request(_no_store)


def _no_store(response: flask.Response) -> flask.Response:
    response.headers.setdefault("Cache-Control", NO_STORE)
    return response
