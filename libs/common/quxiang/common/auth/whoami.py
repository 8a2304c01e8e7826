"""GET /whoami on every service: who the token says the caller is, as this service sees it.

The console uses it to draw its menu; operators use it to check that a service accepts a token
(and stops accepting it after a revocation)."""

from __future__ import annotations

from marshmallow import Schema, fields

from quxiang.common.auth.authorize import current_principal, requires
from quxiang.common.auth.principal import ROLE_LABELS, Role
from quxiang.common.web.blueprint import Blueprint


class WhoAmIOut(Schema):
    user_id = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": [r.value for r in Role]})
    role_label = fields.String(required=True)
    scope = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                        metadata={"description": "province, school, department, graduate, employer (those set)"})
    permissions = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                              metadata={"description": "module -> none/read/write (school and department users)"})


def whoami_blueprint() -> Blueprint:
    blueprint = Blueprint("whoami", __name__, description="当前用户 The caller")

    @blueprint.route("/whoami")
    @blueprint.response(200, WhoAmIOut)
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
