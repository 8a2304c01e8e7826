"""The entrypoints' handle on the service: ``signing()`` inside a request."""

from __future__ import annotations

import flask

from quxiang.signing.service.context import Signing

EXTENSION_KEY = "qx.signing"


def signing() -> Signing:
    return flask.current_app.extensions[EXTENSION_KEY]
