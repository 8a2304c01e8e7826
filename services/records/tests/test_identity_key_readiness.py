"""records started with a key that does not open the stored identity numbers (a re-created secret,
a mistyped key, a new checkout's generated key) is not ready, and a read that needs a number answers
a coded 503 instead of a bare 500; with the old key listed it is ready again."""

from __future__ import annotations

import base64
import os

from quxiang.common.testing.plugin import test_keys as keyset
from quxiang.records.adapters.crypto import KEY_FILE
from quxiang.records.bootstrap import SERVICE
from quxiang.records.entrypoints.context import EXTENSION_KEY

from .roster_data import csv_file, row, upload
from .test_reencrypt import old_roster  # noqa: F401 - the fixture

NEW_KEY = base64.b64encode(os.urandom(32)).decode()


def restarted(config, signing_key):
    app = SERVICE.create_app(config, keys=keyset(signing_key))
    return app, app.test_client()


def test_a_key_that_opens_no_stored_number_is_not_ready(old_roster, world, config, signing_key,  # noqa: F811
                                                        monkeypatch):
    old = (config.data_dir / KEY_FILE).read_text().strip()
    monkeypatch.setenv("QX_RECORDS_ID_KEY", NEW_KEY)  # the old key is gone
    app, client = restarted(config, signing_key)
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.get_json()
        assert ready.get_json()["failed"] == ["identity_keys"]
        assert "QX_RECORDS_ID_OLD_KEYS" in ready.get_json()["checks"]["identity_keys"]
        listed = client.get("/schools/10558/graduates", headers=world.school_user())
        assert listed.status_code == 503 and listed.get_json()["code"] == "identity_key_unavailable"
        # nothing is written under it: an import would encrypt under a key the platform cannot read
        imported = upload(client, world.school_user(), csv_file([row(1), row(2, 姓名="改名")]))
        assert imported.status_code == 503 and imported.get_json()["code"] == "identity_key_unavailable"
    finally:
        app.extensions[EXTENSION_KEY].engine.dispose()

    monkeypatch.setenv("QX_RECORDS_ID_OLD_KEYS", old)
    app, client = restarted(config, signing_key)
    try:
        assert client.get("/readyz").status_code == 200
        assert client.get("/schools/10558/graduates", headers=world.school_user()).status_code == 200
    finally:
        app.extensions[EXTENSION_KEY].engine.dispose()


def test_the_service_s_own_key_is_ready(client):
    assert client.get("/readyz").status_code == 200  # an empty roster, and a fresh one
