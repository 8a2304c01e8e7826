"""The entrypoints' handle on the service: ``stats()`` inside a request."""

from __future__ import annotations

import flask

from quxiang.stats.service.context import Stats

EXTENSION_KEY = "qx.stats"


def stats() -> Stats:
    return flask.current_app.extensions[EXTENSION_KEY]
