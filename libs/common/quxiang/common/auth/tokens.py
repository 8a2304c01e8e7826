"""Verifying access tokens: EdDSA-signed JWTs whose public keys come from the accounts JWKS.

No shared secret: a service holds only public keys. Keys are picked by ``kid``; an unknown ``kid``
refetches the JWKS (at most once per ``min_refetch`` seconds), which is how a rotated-in key is
learnt without a restart.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from jwt.algorithms import OKPAlgorithm

from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
ISSUER = "quxiang-accounts"
LEEWAY_SECONDS = 5


KEYS_UNAVAILABLE = "keys_unavailable"  # the keys could not be loaded: the platform's fault, not the token's


class TokenError(Exception):
    """The token cannot be accepted; ``reason`` is a stable code for the 401 answer."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


JwksLoader = Callable[[], Mapping[str, Any]]


def http_jwks(url: str, timeout: float = 3.0) -> JwksLoader:
    def load() -> Mapping[str, Any]:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - configured URL
            return json.loads(response.read())
    return load


class KeySet:
    """Public keys by ``kid``, refreshed from a JWKS loader."""

    def __init__(self, loader: JwksLoader, max_age: float = 300.0, min_refetch: float = 5.0) -> None:
        self._loader = loader
        self._max_age = max_age
        self._min_refetch = min_refetch
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        document = self._loader()
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and jwk.get("kid"):
                keys[jwk["kid"]] = OKPAlgorithm.from_jwk(json.dumps(jwk))
        self._keys = keys
        self._fetched_at = time.monotonic()

    def get(self, kid: str) -> Any:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if (kid not in self._keys and age >= self._min_refetch) or age >= self._max_age:
                try:
                    self._refresh()
                except OSError as exc:
                    if not self._keys:
                        raise TokenError(KEYS_UNAVAILABLE, f"cannot load the signing keys: {exc}") from exc
                    # the cached keys go on, but a key rotated meanwhile is refused until this works
                    log.warning("cannot refresh the signing keys (keeping %d cached): %s", len(self._keys), exc)
            key = self._keys.get(kid)
        if key is None:
            raise TokenError("unknown_key", "the token names a key that is not published")
        return key


class TokenVerifier:
    """Checks a token's signature and claims. A token once accepted is remembered, by its exact
    text, until it expires or the key that signed it is refetched: a client sends the same token
    with every request, and checking its signature again cost a tenth of a list request's CPU.
    Anything not byte-for-byte a remembered token (a forgery differs in its signature) is checked
    in full; revocation is not decided here but on every request (``Authenticator``)."""

    def __init__(self, keys: KeySet, audience: str, remembered: int = 4096,
                 clock: Callable[[], float] = time.time) -> None:
        self.keys = keys
        self.audience = audience
        self._clock = clock
        self._remembered_at_most = remembered
        # token -> (principal, exp, kid, the key object that verified it)
        self._accepted: dict[str, tuple[Principal, int, str, Any]] = {}

    def verify(self, token: str) -> Principal:
        accepted = self._accepted.get(token)
        if accepted is not None:
            principal, expires, kid, key = accepted
            # A refetched JWKS builds new key objects: what an older one verified is checked again.
            if self.keys.get(kid) is key:
                if expires <= self._clock() - LEEWAY_SECONDS:  # PyJWT's own expiry rule
                    self._accepted.pop(token, None)
                    raise TokenError("token_expired", "the token has expired")
                return principal
            self._accepted.pop(token, None)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenError("malformed_token", "the token cannot be parsed") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenError("bad_algorithm", f"tokens must be signed with {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("unknown_key", "the token names no key")
        key = self.keys.get(kid)
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.audience,
                                issuer=ISSUER, leeway=LEEWAY_SECONDS,
                                options={"require": ["sub", "exp", "iat", "aud", "iss", "role"]})
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token_expired", "the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError("wrong_audience", "the token is not meant for this platform") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError("invalid_token", "the token is not valid") from exc
        principal = principal_from_claims(claims)
        if len(self._accepted) >= self._remembered_at_most:
            self._accepted.clear()  # simpler than LRU order, and a refill costs one check per user
        self._accepted[token] = (principal, int(claims["exp"]), kid, key)
        return principal


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    try:
        scope = claims.get("scope") or {}
        return Principal(
            user_id=str(claims["sub"]),
            role=Role(claims["role"]),
            scope=Scope(**{k: scope.get(k) for k in ("province", "school", "department", "graduate", "employer")}),
            permissions={Module(m): Access(a) for m, a in (claims.get("perm") or {}).items()},
            issued_at=float(claims["iat"]),
            token_id=claims.get("jti"),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise TokenError("invalid_token", "the token's claims are malformed") from exc


def claims_for(principal: Principal) -> dict[str, Any]:
    """The claims that carry a principal; the issuer adds iss, aud, iat, exp and jti."""
    scope = {k: v for k, v in vars(principal.scope).items() if v is not None}
    return {"sub": principal.user_id, "role": principal.role.value, "scope": scope,
            "perm": {m.value: a.value for m, a in principal.permissions.items()}}


def issue_token(principal: Principal, private_key: Any, kid: str, audience: str, ttl_seconds: int,
                now: float | None = None, token_id: str | None = None) -> str:
    """Sign an access token. ``iat`` keeps milliseconds so a revocation in the same second as a
    later login does not void the new token."""
    issued = round(now if now is not None else time.time(), 3)
    claims = claims_for(principal)
    claims.update({"iss": ISSUER, "aud": audience, "iat": issued, "exp": int(issued) + ttl_seconds})
    if token_id:
        claims["jti"] = token_id
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})


def public_jwk(private_key: Any, kid: str) -> dict[str, Any]:
    """The JWKS entry of an Ed25519 private key's public half."""
    jwk = json.loads(OKPAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    return jwk
