"""``qx-records reencrypt``: after a key rotation every identity number ends up under the new key,
in batches, resumably, without touching the roster values or recording events."""

from __future__ import annotations

import base64
import os

import pytest
from sqlalchemy import func, select

from quxiang.common.bus.tables import outbox
from quxiang.records.adapters import reencryption
from quxiang.records.adapters.crypto import KEY_FILE, IdentityCipher, key_id
from quxiang.records.adapters.tables import graduates
from quxiang.records.entrypoints.cli import build_parser, main

from .roster_data import csv_file, identity, row, upload

ROWS = 7


@pytest.fixture
def old_roster(client, world, service):
    """Seven graduates imported under the service's (soon old) key."""
    world.school()
    world.department(code="01")
    response = upload(client, world.school_user(), csv_file([row(i) for i in range(1, ROWS + 1)]))
    assert response.status_code == 201, response.get_json()
    return service


@pytest.fixture
def rotated(config, monkeypatch):
    """The environment after a rotation: a new current key, the previous one listed as old."""
    old = (config.data_dir / KEY_FILE).read_text().strip()
    new = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("QX_RECORDS_ID_KEY", new)
    monkeypatch.setenv("QX_RECORDS_ID_OLD_KEYS", old)
    return IdentityCipher(base64.b64decode(new)), key_id(base64.b64decode(old))


def stored(service):
    with service.engine.connect() as conn:
        return conn.execute(select(graduates.c.exam_number, graduates.c.identity_number_encrypted,
                                   graduates.c.identity_number_hash, graduates.c.version, graduates.c.updated_at)
                            .order_by(graduates.c.exam_number)).all()


def test_every_number_ends_under_the_new_key(old_roster, rotated, config, capsys):
    new_only, old_kid = rotated
    before = stored(old_roster)
    with old_roster.engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(outbox)).scalar_one()

    assert main(["reencrypt", "--status"], config=config) == 0
    assert f"{old_kid}: {ROWS}" in capsys.readouterr().out

    assert main(["reencrypt", "--batch-size", "3", "-v"], config=config) == 0
    out = capsys.readouterr().out
    assert f"re-encrypted {ROWS}, skipped 0" in out and "in 3 batch(es)" in out
    assert "still under other keys: none" in out and f"old key(s) {old_kid}" in out

    after = stored(old_roster)
    for i, (old, new) in enumerate(zip(before, after, strict=True), start=1):
        assert new_only.decrypt(new.identity_number_encrypted) == identity(i)  # the new key alone reads it
        assert new.identity_number_hash == new_only.digest(identity(i))
        assert (new.exam_number, new.version, new.updated_at) == (old.exam_number, old.version, old.updated_at)
    with old_roster.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outbox)).scalar_one() == events

    assert main(["reencrypt"], config=config) == 0  # nothing left: a second run changes nothing
    assert "re-encrypted 0" in capsys.readouterr().out
    assert stored(old_roster) == after


def test_an_interrupted_run_resumes(old_roster, rotated, config, capsys):
    new_only, old_kid = rotated
    service = old_roster
    cipher = IdentityCipher(base64.b64decode(os.environ["QX_RECORDS_ID_KEY"]),
                            [base64.b64decode(os.environ["QX_RECORDS_ID_OLD_KEYS"])])
    first = reencryption.reencrypt(service.engine, cipher, batch_size=2, max_batches=2)  # stopped half way
    assert (first.reencrypted, first.batches) == (4, 2)
    assert reencryption.pending_by_key(service.engine, cipher) == {old_kid: ROWS - 4}
    assert main(["reencrypt", "--batch-size", "2"], config=config) == 0
    assert f"re-encrypted {ROWS - 4}," in capsys.readouterr().out
    assert reencryption.pending_by_key(service.engine, cipher) == {}
    for i, r in enumerate(stored(service), start=1):
        assert new_only.decrypt(r.identity_number_encrypted) == identity(i)


def test_rows_under_an_unknown_key_are_reported(old_roster, config, monkeypatch, capsys):
    monkeypatch.setenv("QX_RECORDS_ID_KEY", base64.b64encode(os.urandom(32)).decode())  # the old key forgotten
    monkeypatch.delenv("QX_RECORDS_ID_OLD_KEYS", raising=False)
    assert main(["reencrypt"], config=config) == 1
    captured = capsys.readouterr()
    assert "re-encrypted 0" in captured.out and "no configured key decrypts" in captured.err


def test_the_batch_size_must_be_positive():
    with pytest.raises(SystemExit):
        main(["reencrypt", "--batch-size", "0"])
    assert build_parser().parse_args(["reencrypt"]).batch_size == reencryption.DEFAULT_BATCH
