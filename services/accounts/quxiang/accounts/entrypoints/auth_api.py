"""Login, tokens, the JWKS, the caller's profile, graduate activation and employer self-registration.

Thin: parse (the schemas answer 422 naming the field), call a use case, shape the answer. Domain
errors become problem+json with their stable code (``DomainError.code``) and Chinese detail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import flask

from quxiang.accounts.adapters import credentials, repository
from quxiang.accounts.domain.model import DomainError, Employer, User
from quxiang.accounts.entrypoints import auth_schemas as s
from quxiang.accounts.entrypoints.context import accounts
from quxiang.accounts.service import auth, employers, provisioning
from quxiang.accounts.service.throttle import Throttled
from quxiang.common.auth import Access, Module, Role, Scope, current_principal, ensure_allowed, public, requires
from quxiang.common.auth.principal import ROLE_LABELS
from quxiang.common.db import reading
from quxiang.common.reference import employer_natures, industries
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.errors import PROBLEM_CONTENT_TYPE, ProblemError, ProblemSchema

blueprint = Blueprint("auth", __name__, description="登录与令牌 Login and tokens")

AUTH, EMPLOYERS, GRADUATES = "登录与令牌 Login and tokens", "用人单位 Employers", "毕业生账号 Graduate accounts"
# Tokens and activation codes must not sit in a browser's or a proxy's cache (RFC 6749 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
RETRY_AFTER = {"Retry-After": {"description": "seconds until the lock ends", "schema": {"type": "integer"}}}


@blueprint.errorhandler(DomainError)
def _domain_error(error: DomainError) -> flask.Response:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else {}
    return ProblemError(error.status, error.code, detail=error.message, headers=headers,
                        **error.details).to_response()


def errors(*statuses: int, tag: str = AUTH) -> Callable[[Any], Any]:
    """Document the problem+json answers of an endpoint, and put it under ``tag``."""
    def decorate(view: Any) -> Any:
        for status in statuses:
            headers = RETRY_AFTER if status == 429 else None
            view = blueprint.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                                          headers=headers)(view)
        return blueprint.doc(tags=[tag])(view)
    return decorate


def _issuer() -> auth.TokenIssuer:
    return auth.TokenIssuer(accounts().keyring, accounts().config.jwt_audience)


def _address() -> str | None:
    return flask.request.remote_addr


@blueprint.route("/.well-known/jwks.json")
@public
@blueprint.response(200, s.JwksSchema)
@errors(tag=AUTH)
def jwks() -> dict:
    """The public keys that verify access tokens (JWKS), selected by ``kid``."""
    return accounts().keyring.jwks()


@blueprint.route("/auth/login", methods=["POST"])
@public
@blueprint.arguments(s.LoginSchema)
@blueprint.response(200, s.TokensSchema)
@errors(401, 429)
def login(body: dict) -> tuple[dict, dict]:
    """Password login: a 15-minute access token and a refresh token. Repeated failures answer 429."""
    with accounts().unit_of_work() as uow:
        tokens = auth.login(uow, _issuer(), body["username"], body["password"], _address())
    return asdict(tokens), NO_STORE


@blueprint.route("/auth/refresh", methods=["POST"])
@public
@blueprint.arguments(s.RefreshSchema)
@blueprint.response(200, s.TokensSchema)
@errors(401)
def refresh(body: dict) -> tuple[dict, dict]:
    """Trade a refresh token for new tokens; the one presented is used up. Presenting a used one
    again ends every session of the user (``refresh_token_reused``)."""
    with accounts().unit_of_work() as uow:
        tokens = auth.refresh(uow, _issuer(), body["refresh_token"])
    return asdict(tokens), NO_STORE


@blueprint.route("/auth/logout", methods=["POST"])
@requires(*Role)
@blueprint.response(204)
@errors(401)
def logout() -> None:
    """End every session of the caller: refresh tokens here, access tokens at every service."""
    with accounts().unit_of_work() as uow:
        auth.logout(uow, current_principal().user_id)


@blueprint.route("/auth/password", methods=["POST"])
@requires(*Role)
@blueprint.arguments(s.PasswordChangeSchema)
@blueprint.response(204)
@errors(400, 401, 429)
def change_password(body: dict) -> None:
    """Change the caller's password; every session ends, so log in again with the new one."""
    with accounts().unit_of_work() as uow:
        auth.change_password(uow, current_principal().user_id, body["current_password"], body["new_password"],
                             _address())


def _profile(user: User) -> dict:
    return {"id": user.id, "username": user.username, "role": user.role.value, "role_label": ROLE_LABELS[user.role],
            "display_name": user.display_name,
            "scope": {k: v for k, v in vars(user.scope).items() if v is not None},
            "permissions": {m.value: a.value for m, a in user.permissions.items()}, "disabled": user.disabled}


@blueprint.route("/me")
@requires(*Role)
@blueprint.response(200, s.ProfileSchema)
@errors(401, 404)
def me() -> dict:
    """The caller's account as stored now (the token may be up to 15 minutes older)."""
    with reading(accounts().engine) as conn:
        user = repository.get_user(conn, current_principal().user_id)
    if user is None:
        raise ProblemError(404, "not_found", detail="账号不存在")
    return _profile(user)


@blueprint.route("/graduates/activate", methods=["POST"])
@public
@blueprint.arguments(s.ActivationSchema)
@blueprint.response(200, s.ActivatedSchema)
@errors(400, 409, 429, tag=GRADUATES)
def activate(body: dict) -> dict:
    """A graduate sets its first password with 考生号 and the activation code its school handed out."""
    with accounts().unit_of_work() as uow:
        user = provisioning.activate(uow, body["exam_number"], body["activation_code"], body["password"],
                                     _address())
    return {"user_id": user.id, "username": user.username}


@blueprint.route("/schools/<school_code>/activation-codes/issue", methods=["POST"])
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
@blueprint.arguments(s.IssueQuerySchema, location="query")
@blueprint.response(200, s.IssuedCodesSchema)
@errors(401, 403, tag=GRADUATES)
def issue_activation_codes(query: dict, school_code: str) -> tuple[dict, dict]:
    """Hand out the activation codes of the school's graduates that were never handed out, once:
    fresh codes are made now and only their hashes kept. Call again while ``remaining`` > 0."""
    ensure_allowed(Scope(school=school_code))
    with accounts().unit_of_work() as uow:
        issued, remaining = provisioning.issue_codes(uow, school_code, query["limit"])
    return {"school_code": school_code, "codes": [asdict(c) for c in issued], "remaining": remaining}, NO_STORE


@blueprint.route("/schools/<school_code>/graduates/<graduate_id>/activation-code", methods=["POST"])
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
@blueprint.response(200, s.ReissuedCodeSchema)
@errors(401, 403, 404, 409, tag=GRADUATES)
def reissue_activation_code(school_code: str, graduate_id: str) -> tuple[dict, dict]:
    """A new activation code for one graduate who lost its code or forgot its password (the old code
    stops working; a graduate who had activated loses its password and sessions and activates again).
    Shown this once. Another school's graduate: 404 ``graduate_not_found``; a graduate taken off the
    roster: 409 ``graduate_withdrawn``; a disabled account: 409 ``account_disabled``."""
    ensure_allowed(Scope(school=school_code))
    with accounts().unit_of_work() as uow:
        code = provisioning.reissue_code(uow, school_code, graduate_id, current_principal().user_id)
        uow.commit()
    return {"school_code": school_code, **asdict(code)}, NO_STORE


def _employer(employer: Employer) -> dict:
    return {**asdict(employer), "nature_label": employer_natures().label(employer.nature, default=employer.nature),
            "industry_label": industries().label(employer.industry, default=employer.industry)}


@blueprint.route("/employers", methods=["POST"])
@public
@blueprint.arguments(s.EmployerRegistrationSchema)
@blueprint.response(201, s.EmployerRegisteredSchema)
@errors(409, tag=EMPLOYERS)
def register_employer(body: dict) -> dict:
    """An employer registers itself and its account; it then logs in with the username."""
    with accounts().unit_of_work() as uow:
        employer, user = employers.register_employer(uow, employers.Registration(**body))
    return {"employer": _employer(employer), "user_id": user.id, "username": user.username}


@blueprint.route("/employers/me", methods=["PUT"])
@requires(Role.EMPLOYER)
@blueprint.arguments(s.EmployerUpdateSchema)
@blueprint.response(200, s.EmployerSchema)
@errors(401, 403, 404, tag=EMPLOYERS)
def update_my_employer(body: dict) -> dict:
    """The caller's unit changes its data; agreements already made keep the unit as it was."""
    employer_id = current_principal().scope.employer
    if not employer_id:
        raise ProblemError(404, "not_found", detail="单位不存在")
    with accounts().unit_of_work() as uow:
        employer = employers.update_employer(uow, employer_id, body, current_principal().user_id)
    return _employer(employer)


@blueprint.route("/employers/me")
@requires(Role.EMPLOYER)
@blueprint.response(200, s.EmployerSchema)
@errors(401, 403, 404, tag=EMPLOYERS)
def my_employer() -> dict:
    """The caller's own unit."""
    employer_id = current_principal().scope.employer
    with accounts().unit_of_work() as uow:
        employer = credentials.get_employer(uow.session, employer_id) if employer_id else None
    if employer is None:
        raise ProblemError(404, "not_found", detail="单位不存在")
    return _employer(employer)

