"""WSGI entry for gunicorn: ``gunicorn -c deploy/gunicorn.conf.py 'quxiang.common.wsgi:app_for("signing")'``.

gunicorn calls the factory in each worker after the fork, so the engine and any broker connection
are opened in the worker, never shared across a fork.

The app answers both under ``/api/<service>/`` (the URLs clients use, the same as ``make run`` and
the gateway, which passes paths through unchanged) and at the root (probes and scrapes that talk to
one container directly). Under the prefix the prefix becomes SCRIPT_NAME, so the links the app
builds (the docs page's link to its openapi.json) keep it.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from quxiang.common.config import load_config
from quxiang.common.service import get_service


def mount_prefix(service: str) -> str:
    return f"/api/{service}"


def app_for(service: str) -> Flask:
    config = load_config(service)
    app = get_service(service).create_app(config)
    inner = app.wsgi_app
    if config.proxy_hops > 0:
        # Behind the gateway the connection comes from nginx: the client is in X-Forwarded-For,
        # trusted as far back as there are proxies of ours (a client may put anything before that).
        inner = ProxyFix(inner, x_for=config.proxy_hops, x_proto=config.proxy_hops)
    app.wsgi_app = DispatcherMiddleware(inner, {mount_prefix(service): inner})  # type: ignore[method-assign]
    return app
