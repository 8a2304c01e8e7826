"""The entrypoints' handle on the service: ``gateway()`` inside a request."""

from __future__ import annotations

import flask

from quxiang.sync_gateway.service.context import Gateway

EXTENSION_KEY = "qx.sync_gateway"


def gateway() -> Gateway:
    return flask.current_app.extensions[EXTENSION_KEY]
