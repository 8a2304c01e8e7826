"""Re-encrypting identity numbers after a key rotation: every graduate whose ciphertext or hash
names another key than the current one is decrypted (with the old key, which must still be listed
in ``QX_RECORDS_ID_OLD_KEYS``), encrypted and hashed with the current key.

Batches of ``batch_size`` graduates in id order, each in its own short transaction, so a large
roster never holds locks for long and an interrupted run loses at most one batch. Resuming needs no
bookkeeping: the rows still to do are exactly those naming an old key, and a run simply starts
over from the lowest such id. A row is only overwritten if its ciphertext is still the one that was
read: the batch locks its rows (``FOR UPDATE`` on PostgreSQL, SQLite's write lock), so an import
waits for it, and the guard only matters where no lock is taken; such rows are counted as skipped.
The roster values, the version and ``updated_at`` are not touched and no event is recorded: the
graduate did not change, only how its number is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, not_, select, update
from sqlalchemy.engine import Engine

from quxiang.common.db import reading
from quxiang.records.adapters.crypto import IdentityCipher, InvalidKey, stored_key_id
from quxiang.records.adapters.tables import graduates

DEFAULT_BATCH = 500


@dataclass
class Reencryption:
    """What one run did."""

    reencrypted: int = 0
    skipped: int = 0                                    # changed by someone else meanwhile
    unreadable: dict[str, int] = field(default_factory=dict)  # key id -> rows no known key decrypts
    batches: int = 0


def _stale(current: str) -> ColumnElement[bool]:
    prefix = f"{current}:"
    return not_(and_(graduates.c.identity_number_encrypted.startswith(prefix, autoescape=True),
                     graduates.c.identity_number_hash.startswith(prefix, autoescape=True)))


def pending_by_key(engine: Engine, cipher: IdentityCipher) -> dict[str, int]:
    """Graduates not yet under the current key, counted by the key their ciphertext names."""
    kid = func.substr(graduates.c.identity_number_encrypted, 1, len(cipher.current_id))  # ids have one length
    query = select(kid, func.count()).where(_stale(cipher.current_id)).group_by(kid)
    with reading(engine) as conn:
        return {str(k): int(n) for k, n in conn.execute(query)}


def unreadable_by_key(engine: Engine, cipher: IdentityCipher) -> dict[str, int]:
    """Graduates whose identity number names a key that is not configured (neither the current nor
    an old one), by that key: none of them can be read or matched."""
    known = {cipher.current_id, *cipher.old_ids}
    return {kid: n for kid, n in pending_by_key(engine, cipher).items() if kid not in known}


def reencrypt(engine: Engine, cipher: IdentityCipher, batch_size: int = DEFAULT_BATCH,
              max_batches: int | None = None, progress: Callable[[Reencryption], None] | None = None) -> Reencryption:
    """Re-encrypt and re-hash every graduate still under an old key; see the module docs."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    done = Reencryption()
    after = ""  # ids are text: "" sorts first
    while max_batches is None or done.batches < max_batches:
        with engine.begin() as conn:
            rows = conn.execute(
                select(graduates.c.id, graduates.c.identity_number_encrypted)
                .where(graduates.c.id > after, _stale(cipher.current_id))
                .order_by(graduates.c.id).limit(batch_size).with_for_update()).all()
            if not rows:
                break
            for graduate_id, stored in rows:
                try:
                    number = cipher.decrypt(stored)
                except InvalidKey:
                    kid = stored_key_id(stored)
                    done.unreadable[kid] = done.unreadable.get(kid, 0) + 1
                    continue
                written = conn.execute(
                    update(graduates)
                    .where(graduates.c.id == graduate_id, graduates.c.identity_number_encrypted == stored)
                    .values(identity_number_encrypted=cipher.encrypt(number),
                            identity_number_hash=cipher.digest(number))).rowcount
                if written:
                    done.reencrypted += 1
                else:
                    done.skipped += 1
            after = rows[-1][0]
        done.batches += 1
        if progress is not None:
            progress(done)
    return done

