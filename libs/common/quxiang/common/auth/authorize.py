"""One way to declare what an endpoint needs, checked by every service.

    @blp.route("/schools/<school_id>")
    class School(MethodView):
        @requires(Role.PROVINCE, Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.READ)
        def get(self, school_id): ...
            ensure_visible(scope_of(school))   # another scope: 404, the object's existence is not leaked

Deny by default: ``check_declarations(app)`` refuses to start an app with an endpoint that declares
neither ``@requires`` nor ``@public``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import flask
from prometheus_client import Counter

from quxiang.common.auth.principal import (
    ACCESS_LABELS,
    PERMISSION_MODULE_LABELS,
    ROLE_LABELS,
    Access,
    Module,
    Principal,
    Role,
    Scope,
)
from quxiang.common.auth.revocation import RevocationList
from quxiang.common.auth.tokens import KEYS_UNAVAILABLE, TokenError, TokenVerifier
from quxiang.common.web.errors import ProblemError

F = TypeVar("F", bound=Callable[..., Any])
RULE_ATTR = "_qx_access_rule"
EXTENSION_KEY = "qx.auth"
# The suite's own endpoints: probes, metrics and API documentation are public by design.
BUILTIN_PUBLIC_ENDPOINTS = ("qx_metrics", "qx_health.", "api-docs.")


@dataclass(frozen=True)
class AccessRule:
    public: bool
    roles: frozenset[Role] = frozenset()
    module: Module | None = None
    access: Access = Access.READ


# Why tokens are refused, by reason: a key rotation that did not reach a service shows as unknown_key,
# a clock ahead of accounts' as invalid_token, a wave of expired sessions as token_expired; the 401s
# alone do not tell them apart (deploy/prometheus/alerts.yml, docs/operations.md "Alerts").
REFUSED = Counter("qx_auth_token_refusals_total", "Bearer tokens refused, by reason", ["reason"])


@dataclass
class Authenticator:
    verifier: TokenVerifier
    revocations: RevocationList | None

    def authenticate(self, header: str | None) -> Principal:
        if not header:
            raise _unauthorized("missing_token", "需要登录：请求缺少 Authorization: Bearer 令牌")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("malformed_token", "Authorization 头必须是 Bearer 令牌")
        try:
            principal = self.verifier.verify(token.strip())
        except TokenError as exc:
            REFUSED.labels(exc.reason).inc()
            if exc.reason == KEYS_UNAVAILABLE:
                # Not the caller's fault: the token may well be valid. Ask again shortly.
                raise ProblemError(503, "keys_unavailable", detail="暂时无法验证登录令牌，请稍后重试",
                                   headers={"Retry-After": "5"}) from exc
            raise _unauthorized(exc.reason, _TOKEN_DETAILS.get(exc.reason, _TOKEN_DETAILS["invalid_token"])) from exc
        if self.revocations is not None:
            if self.revocations.revokes(principal.user_id, principal.issued_at):
                REFUSED.labels("token_revoked").inc()
                raise _unauthorized("token_revoked", "令牌已失效，请重新登录")
        return principal


# What the console shows when a session ends or a token is bad (the English reason stays in the logs).
_TOKEN_DETAILS = {
    "token_expired": "登录已过期，请重新登录", "malformed_token": "登录令牌无法解析，请重新登录",
    "bad_algorithm": "登录令牌的签名算法不受支持，请重新登录", "unknown_key": "登录令牌的签名密钥未知，请重新登录",
    "wrong_audience": "登录令牌不属于本平台，请重新登录", "invalid_token": "登录令牌无效，请重新登录",
}


def _unauthorized(code: str, detail: str) -> ProblemError:
    return ProblemError(401, code, title="Unauthorized", detail=detail, headers={
        "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{code}"'})


def install_auth(app: flask.Flask, authenticator: Authenticator) -> None:
    app.extensions[EXTENSION_KEY] = authenticator
    app.before_request(_authorize_before_parsing)


def _authorize_before_parsing() -> None:
    """Authentication and the role and module checks run before the request's body and query are
    parsed: a caller without the right gets 401 or 403 whatever it sent, never a 422 that tells
    it about the endpoint (the body's validation runs in the view's outer decorators)."""
    endpoint = flask.request.endpoint
    if endpoint is None:
        return
    method = "GET" if flask.request.method == "HEAD" else flask.request.method
    rules = dict(rule_of(flask.current_app.view_functions[endpoint]))
    rule = rules.get(method, rules.get("*"))
    if rule is not None and not rule.public:
        flask.g.qx_principal = _authorize(rule)


def _authorize(rule: AccessRule) -> Principal:
    principal = _authenticator().authenticate(flask.request.headers.get("Authorization"))
    if principal.role not in rule.roles:
        allowed = "、".join(ROLE_LABELS[r] for r in sorted(rule.roles))
        raise ProblemError(403, "role_forbidden", title="Forbidden", detail=f"此操作仅限：{allowed}")
    if rule.module is not None and not principal.access_to(rule.module).allows(rule.access):
        raise module_forbidden(rule.module, rule.access)
    return principal


def module_forbidden(module: Module, needed: Access) -> ProblemError:
    """403 for an account without ``needed`` on ``module``, in the words of its permission setting."""
    return ProblemError(403, "module_forbidden", title="Forbidden", module=module.value, needed=needed.value,
                        detail=f"您的账号没有“{PERMISSION_MODULE_LABELS[module]}”模块的{ACCESS_LABELS[needed]}权限，"
                               "请联系学校（或省级）管理员开通")


def modules_allowing(principal: Principal, access: Access = Access.READ) -> frozenset[Module]:
    """The modules ``principal`` has ``access`` to, for a view that answers each module's data by
    that module's own permission (statistics, sync records, the feed); 403 ``module_forbidden``
    when there is none, as ``requires`` answers for one module."""
    allowed = frozenset(m for m in Module if principal.access_to(m).allows(access))
    if not allowed:
        raise ProblemError(403, "module_forbidden", title="Forbidden", needed=access.value,
                           detail=f"您的账号没有任何模块的{ACCESS_LABELS[access]}权限，请联系学校（或省级）管理员开通")
    return allowed


def public(view: F) -> F:
    """Mark an endpoint as open to anyone (login, registration, the JWKS)."""
    setattr(view, RULE_ATTR, AccessRule(public=True))
    return view


def requires(*roles: Role, module: Module | None = None, access: Access = Access.READ) -> Callable[[F], F]:
    """The caller must be authenticated, have one of ``roles``, and ``access`` to ``module``."""
    if not roles:
        raise ValueError("requires() needs at least one role; use @public for open endpoints")
    rule = AccessRule(public=False, roles=frozenset(roles), module=module, access=access)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            # Normally already checked before parsing (install_auth); checked here too for views
            # called without that hook.
            if flask.g.get("qx_principal") is None:
                flask.g.qx_principal = _authorize(rule)
            return view(*args, **kwargs)

        setattr(guarded, RULE_ATTR, rule)
        return guarded  # type: ignore[return-value]

    return decorate


def _authenticator() -> Authenticator:
    try:
        return flask.current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("install_auth() was not called for this app") from None


def current_principal() -> Principal:
    principal = flask.g.get("qx_principal")
    if principal is None:
        raise RuntimeError("current_principal() outside an endpoint declared with @requires")
    return principal


def not_found() -> ProblemError:
    """The one answer for an object that is not there or not the caller's to see: the two look the
    same, so that a 404 tells nobody what exists outside their scope."""
    return ProblemError(404, "not_found", title="Not Found",
                        detail="记录不存在，或不在您的管理范围内，请返回列表重新查询")


def ensure_visible(scope: Scope) -> None:
    """Reading or changing one object: outside the caller's scope it does not exist (404)."""
    if not current_principal().covers(scope):
        raise not_found()


def ensure_allowed(scope: Scope) -> None:
    """An action within a scope (create in a province, act on a school): outside it, 403."""
    if not current_principal().covers(scope):
        raise ProblemError(403, "out_of_scope", title="Forbidden", detail="超出账号的管理范围")


def rule_of(view: Callable[..., Any]) -> list[tuple[str, AccessRule | None]]:
    """The rules of a view function, one per HTTP method for class-based views."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return [("*", getattr(view, RULE_ATTR, None))]
    methods: Iterable[str] = getattr(view_class, "methods", None) or ()
    return [(m, getattr(getattr(view_class, m.lower(), None), RULE_ATTR, None)) for m in sorted(methods)]


def check_declarations(app: flask.Flask) -> None:
    """Refuse to start an app with an endpoint that declares no access rule."""
    missing = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static" or endpoint.startswith(BUILTIN_PUBLIC_ENDPOINTS):
            continue
        missing += [f"{endpoint} {method}" for method, rule in rule_of(view) if rule is None]
    if missing:
        raise RuntimeError("endpoints without an access rule (@requires or @public): " + ", ".join(missing))
