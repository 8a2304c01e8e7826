"""The entrypoints' handle on the service: ``records()`` inside a request."""

from __future__ import annotations

import flask

from quxiang.records.service.context import Records

EXTENSION_KEY = "qx.records"


def records() -> Records:
    return flask.current_app.extensions[EXTENSION_KEY]
