"""Identity numbers at rest: AES-256-GCM ciphertext plus a keyed hash for lookups.

Keys come from the environment: ``QX_RECORDS_ID_KEY`` is the current key (base64 of 32 bytes);
``QX_RECORDS_ID_OLD_KEYS`` lists earlier keys (base64, comma separated) that still decrypt.
Without ``QX_RECORDS_ID_KEY`` (the embedded default, development only) a key is generated once into
``<QX_DATA_DIR>/records_id.key`` and a warning is logged.

Stored forms:
- ciphertext ``<kid>:<base64(nonce || ciphertext+tag)>``, ``kid`` being the first 8 hex characters
  of SHA-256 of the key, so each row names the key that encrypted it;
- hash ``<kid>:<hex HMAC-SHA256(key, number)>``, for duplicate detection and search without
  decrypting. Lookups compute the hash under every known key, so rows written before a rotation
  are still found.

Rotation: generate a new key, set it as ``QX_RECORDS_ID_KEY`` and move the previous one into
``QX_RECORDS_ID_OLD_KEYS``; restart. New and changed rows use the new key, old rows stay readable.
``qx-records reencrypt`` (``adapters.reencryption``) then moves the old rows to the new key; a key
may be dropped from the old list only once no row names its kid (the command says when).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

logger = logging.getLogger(__name__)

KEY_ENV = "QX_RECORDS_ID_KEY"
OLD_KEYS_ENV = "QX_RECORDS_ID_OLD_KEYS"
KEY_FILE = "records_id.key"


class InvalidKey(ValueError):
    """A key that is not base64 of 32 bytes, or a ciphertext naming an unknown key."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise InvalidKey(f"{where} is not valid base64") from exc
    if len(key) != 32:
        raise InvalidKey(f"{where} must be 32 bytes (base64), got {len(key)}")
    return key


def stored_key_id(stored: str) -> str:
    """The key id a stored ciphertext or hash names (the part before the colon)."""
    return stored.partition(":")[0]


class IdentityCipher:
    def __init__(self, current: bytes, old: list[bytes] | None = None) -> None:
        self.current_id = key_id(current)
        self._keys: dict[str, bytes] = {key_id(k): k for k in [*(old or []), current]}
        self._aead: dict[str, AESGCM] = {kid: AESGCM(k) for kid, k in self._keys.items()}
        # Keyed once; each digest copies the keyed state (cheaper than keying HMAC again).
        self._macs = {kid: hmac.new(k, digestmod=hashlib.sha256) for kid, k in self._keys.items()}
        self._sealer = self._aead[self.current_id]
        self._prefix = f"{self.current_id}:"

    @property
    def old_ids(self) -> list[str]:
        """The ids of the keys that still decrypt but no longer encrypt."""
        return [kid for kid in self._keys if kid != self.current_id]

    def encrypt(self, number: str) -> str:
        nonce = os.urandom(12)
        sealed = self._sealer.encrypt(nonce, number.encode(), None)
        return self._prefix + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, stored: str) -> str:
        kid, _, body = stored.partition(":")
        aead = self._aead.get(kid)
        if aead is None:
            raise InvalidKey(f"no key with id {kid} (list it in {OLD_KEYS_ENV})")
        raw = base64.b64decode(body)
        return aead.decrypt(raw[:12], raw[12:], None).decode()

    def digest(self, number: str) -> str:
        """The hash stored with a new or changed row (current key)."""
        return self._digest(self.current_id, number)

    def digests(self, number: str) -> list[str]:
        """The hashes ``number`` may be stored under, one per known key."""
        return [self._digest(kid, number) for kid in self._keys]

    def matches(self, stored_hash: str, number: str) -> bool:
        """Whether ``stored_hash`` (under any known key) is the hash of ``number``: one HMAC, under
        the key the hash names, instead of one per key."""
        kid = stored_key_id(stored_hash)
        return kid in self._keys and hmac.compare_digest(self._digest(kid, number), stored_hash)

    def _digest(self, kid: str, number: str) -> str:
        mac = self._macs[kid].copy()
        mac.update(number.encode())
        return f"{kid}:{mac.hexdigest()}"


def cipher_from_environment(data_dir: Path, environ: Mapping[str, str] | None = None, *,
                            key_required: bool = False) -> IdentityCipher:
    """The cipher under ``QX_RECORDS_ID_KEY``. Without it, a key generated into ``data_dir`` for
    development; ``key_required`` (a production database) refuses to start instead: each process
    would make a key of its own, and what one encrypted no other could read."""
    env = os.environ if environ is None else environ
    old = [_decode_key(k, OLD_KEYS_ENV) for k in env.get(OLD_KEYS_ENV, "").split(",") if k.strip()]
    if env.get(KEY_ENV):
        return IdentityCipher(_decode_key(env[KEY_ENV], KEY_ENV), old)
    if key_required:
        raise InvalidKey(f"{KEY_ENV} is empty: set it to the platform's identity-number key (base64 of 32 "
                         "bytes; docs/operations.md) before starting records on a production database")
    path = data_dir / KEY_FILE
    if path.exists():
        key = _decode_key(path.read_text(), str(path))
    else:
        key = AESGCM.generate_key(bit_length=256)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(base64.b64encode(key).decode())
    logger.warning("%s is not set: identity numbers are encrypted with the generated key in %s "
                   "(development only; set %s in production)", KEY_ENV, path, KEY_ENV)
    return IdentityCipher(key, old)
