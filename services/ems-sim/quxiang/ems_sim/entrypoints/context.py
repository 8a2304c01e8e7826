"""The entrypoints' handle on the service: ``ems()`` inside a request."""

from __future__ import annotations

import flask

from quxiang.ems_sim.service.context import EmsSim

EXTENSION_KEY = "qx.ems_sim"


def ems() -> EmsSim:
    return flask.current_app.extensions[EXTENSION_KEY]
