"""The entrypoints' handle on the service: ``accounts()`` inside a request."""

from __future__ import annotations

import flask

from quxiang.accounts.service.context import Accounts

EXTENSION_KEY = "qx.accounts"


def accounts() -> Accounts:
    return flask.current_app.extensions[EXTENSION_KEY]
