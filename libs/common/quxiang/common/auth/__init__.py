"""Authentication and authorization shared by every service: token verification against the
accounts JWKS, per-user revocation, and the one way endpoints declare what they need."""

from quxiang.common.auth.authorize import (
    Authenticator,
    check_declarations,
    current_principal,
    ensure_allowed,
    ensure_visible,
    install_auth,
    public,
    requires,
)
from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
from quxiang.common.auth.revocation import TOKENS_REVOKED, RevocationList, revocation_consumer
from quxiang.common.auth.tokens import KeySet, TokenError, TokenVerifier, http_jwks

__all__ = [
    "TOKENS_REVOKED", "Access", "Authenticator", "KeySet", "Module", "Principal", "RevocationList", "Role",
    "Scope", "TokenError", "TokenVerifier", "check_declarations", "current_principal", "ensure_allowed",
    "ensure_visible", "http_jwks", "install_auth", "public", "requires", "revocation_consumer",
]
