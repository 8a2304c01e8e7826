"""The token signing keys: Ed25519, kept in the accounts database, published as a JWKS.

Rotation (``qx-accounts keys rotate``): a new key is created and signs from then on; the previous
one is retired (signs nothing) but stays published until every token it signed has expired, then
``keys prune`` stops publishing it. Verifiers pick the key by ``kid`` and refetch the JWKS when they
meet an unknown one, so a rotation needs no restart anywhere.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from quxiang.accounts.adapters.tables import signing_keys
from quxiang.common.auth.tokens import public_jwk
from quxiang.common.db import reading


class Keyring:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: dict[str, Ed25519PrivateKey] = {}

    def _load(self, pem: str) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("signing keys must be Ed25519")
        return key

    def rotate(self) -> str:
        """Create a new signing key and retire the current one; returns the new kid."""
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        now = datetime.now(UTC)
        kid = f"{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
        with self.engine.begin() as conn:
            conn.execute(update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=now))
            conn.execute(insert(signing_keys).values(kid=kid, private_pem=pem, created_at=now))
        return kid

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """The key that signs now; the first call on an empty keyring creates one."""
        with reading(self.engine) as conn:
            row = conn.execute(select(signing_keys.c.kid, signing_keys.c.private_pem).where(
                signing_keys.c.retired_at.is_(None)).order_by(signing_keys.c.created_at.desc()).limit(1)).first()
        if row is None:
            self.rotate()
            return self.signing_key()
        if row.kid not in self._cache:
            self._cache[row.kid] = self._load(row.private_pem)
        return row.kid, self._cache[row.kid]

    def jwks(self) -> dict[str, Any]:
        """Every published public key: the signing one and the retired ones not yet pruned."""
        with reading(self.engine) as conn:
            rows = conn.execute(select(signing_keys.c.kid, signing_keys.c.private_pem).where(
                signing_keys.c.removed_at.is_(None)).order_by(signing_keys.c.created_at)).all()
        return {"keys": [public_jwk(self._load(r.private_pem), r.kid) for r in rows]}

    def prune(self, older_than: timedelta) -> list[str]:
        """Stop publishing keys retired longer ago than ``older_than`` (the longest token lifetime)."""
        cutoff = datetime.now(UTC) - older_than
        with self.engine.begin() as conn:
            kids = list(conn.execute(select(signing_keys.c.kid).where(
                signing_keys.c.retired_at.is_not(None), signing_keys.c.retired_at < cutoff,
                signing_keys.c.removed_at.is_(None))).scalars())
            if kids:
                conn.execute(update(signing_keys).where(signing_keys.c.kid.in_(kids)).values(
                    removed_at=datetime.now(UTC)))
        return kids
