"""Identity number encryption: round trip, key ids, rotation with old keys, the embedded key file."""

from __future__ import annotations

import base64
import os

import pytest

from quxiang.records.adapters.crypto import IdentityCipher, InvalidKey, cipher_from_environment, key_id

NUMBER = "44010620000101003X"


def test_round_trip_and_key_id_prefix():
    key = os.urandom(32)
    cipher = IdentityCipher(key)
    stored = cipher.encrypt(NUMBER)
    assert stored.startswith(key_id(key) + ":") and NUMBER not in stored
    assert cipher.encrypt(NUMBER) != stored  # a fresh nonce each time
    assert cipher.decrypt(stored) == NUMBER
    assert cipher.digest(NUMBER) == cipher.digest(NUMBER)


def test_rotation_keeps_old_rows_readable_and_findable():
    old, new = os.urandom(32), os.urandom(32)
    stored = IdentityCipher(old).encrypt(NUMBER)
    old_digest = IdentityCipher(old).digest(NUMBER)
    rotated = IdentityCipher(new, [old])
    assert rotated.decrypt(stored) == NUMBER
    assert old_digest in rotated.digests(NUMBER)
    assert rotated.encrypt(NUMBER).startswith(key_id(new))
    with pytest.raises(InvalidKey):
        IdentityCipher(new).decrypt(stored)


def test_keys_from_the_environment(tmp_path):
    old, new = os.urandom(32), os.urandom(32)
    env = {"QX_RECORDS_ID_KEY": base64.b64encode(new).decode(),
           "QX_RECORDS_ID_OLD_KEYS": base64.b64encode(old).decode()}
    cipher = cipher_from_environment(tmp_path, env)
    assert cipher.current_id == key_id(new)
    assert cipher.decrypt(IdentityCipher(old).encrypt(NUMBER)) == NUMBER
    with pytest.raises(InvalidKey):
        cipher_from_environment(tmp_path, {"QX_RECORDS_ID_KEY": base64.b64encode(b"short").decode()})


def test_the_embedded_default_generates_one_key_file(tmp_path, caplog):
    first = cipher_from_environment(tmp_path, {})
    assert (tmp_path / "records_id.key").exists()
    assert "QX_RECORDS_ID_KEY is not set" in caplog.text
    assert cipher_from_environment(tmp_path, {}).decrypt(first.encrypt(NUMBER)) == NUMBER



def test_a_production_database_without_the_key_refuses_to_start(tmp_path, pg_url, monkeypatch):
    # Each process would generate a key of its own: what one encrypted, no other could read.
    from quxiang.common.testing.plugin import make_test_config
    from quxiang.records.bootstrap import build_records

    monkeypatch.delenv("QX_RECORDS_ID_KEY", raising=False)
    with pytest.raises(InvalidKey, match="QX_RECORDS_ID_KEY"):
        cipher_from_environment(tmp_path, {}, key_required=True)
    production = make_test_config("records", pg_url, "embedded", tmp_path, QX_DEMO_DATA="false")
    with pytest.raises(InvalidKey, match="QX_RECORDS_ID_KEY"):
        build_records(production)
    demo = make_test_config("records", pg_url, "embedded", tmp_path, QX_DEMO_DATA="true")
    assert build_records(demo).cipher is not None  # demo data: the development key will do
    monkeypatch.setenv("QX_RECORDS_ID_KEY", base64.b64encode(os.urandom(32)).decode())
    assert build_records(production).cipher is not None
