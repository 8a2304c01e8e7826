"""GET /whoami on every service: who the token says the caller is, as this service sees it.

The console uses it to draw its menu; operators use it to check that a service accepts a token
(and stops accepting it after a revocation)."""

from __future__ import annotations

from flask_smorest import Blueprint

from quxiang.common.auth.authorize import current_principal, requires
from quxiang.common.auth.principal import ROLE_LABELS, Role


def whoami_blueprint() -> Blueprint:
    blueprint = Blueprint("whoami", __name__, description="当前用户 The caller")

    @blueprint.route("/whoami")
    @requires(*Role)
    def whoami() -> dict:
        principal = current_principal()
        return {
            "user_id": principal.user_id,
            "role": principal.role.value,
            "role_label": ROLE_LABELS[principal.role],
            "scope": {k: v for k, v in vars(principal.scope).items() if v is not None},
            "permissions": {m.value: a.value for m, a in principal.permissions.items()},
        }

    return blueprint
