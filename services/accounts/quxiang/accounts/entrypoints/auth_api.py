"""Login, tokens and the JWKS."""

from __future__ import annotations

from flask_smorest import Blueprint

from quxiang.accounts.entrypoints.context import accounts
from quxiang.common.auth import public

blueprint = Blueprint("auth", __name__, description="登录与令牌 Login and tokens")


@blueprint.route("/.well-known/jwks.json")
@public
def jwks() -> dict:
    """The public keys that verify access tokens (JWKS), selected by ``kid``."""
    return accounts().keyring.jwks()
