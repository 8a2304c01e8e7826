"""WSGI entry for gunicorn: ``gunicorn 'quxiang.common.wsgi:app_for("signing")'``.

gunicorn calls the factory in each worker after the fork, so the engine and any broker connection
are opened in the worker, never shared across a fork.
"""

from __future__ import annotations

from flask import Flask

from quxiang.common.config import load_config
from quxiang.common.service import get_service


def app_for(service: str) -> Flask:
    return get_service(service).create_app(load_config(service))
