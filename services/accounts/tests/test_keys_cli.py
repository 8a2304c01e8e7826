"""``qx-accounts keys``: rotation keeps old tokens verifying, the JWKS lists both, prune unpublishes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from sqlalchemy import update

from quxiang.accounts.adapters.tables import signing_keys
from quxiang.accounts.entrypoints.cli import build_parser, main
from quxiang.common.auth.principal import Role

PASSWORD = "Passw0rd!"


def login(client, username):
    return client.post("/auth/login", json={"username": username, "password": PASSWORD}).get_json()["access_token"]


def published(client):
    return [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]


def test_rotation_then_prune(client, service, config, seed, capsys):
    seed.user(Role.PROVINCE, username="gd", province="44")
    old_token = login(client, "gd")
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    assert main(["keys", "rotate"], config=config) == 0
    new_kid = capsys.readouterr().out.split()[0]
    assert new_kid != old_kid
    assert published(client) == [old_kid, new_kid]
    new_token = login(client, "gd")
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    for token in (old_token, new_token):  # the old key's tokens verify until they expire
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    assert main(["keys", "list"], config=config) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:2] for line in listing] == [[old_kid, "retired"], [new_kid, "signing"]]

    assert main(["keys", "prune"], config=config) == 0  # retired a moment ago: its tokens may live
    assert "nothing to prune" in capsys.readouterr().out
    with service.engine.begin() as conn:
        conn.execute(update(signing_keys).where(signing_keys.c.kid == old_kid).values(
            retired_at=datetime.now(UTC) - timedelta(hours=2)))
    assert main(["keys", "prune", "--older-than-hours", "1"], config=config) == 0
    assert old_kid in capsys.readouterr().out
    assert published(client) == [new_kid]
    main(["keys", "list"], config=config)
    assert [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()] == ["removed", "signing"]


def test_prune_refuses_an_age_that_would_void_live_tokens(config, capsys):
    assert main(["keys", "prune", "--older-than-hours", "0.1"], config=config) == 2
    assert "at least" in capsys.readouterr().err


def test_list_on_an_empty_keyring(config, capsys):
    assert main(["keys", "list"], config=config) == 0
    assert "no signing keys yet" in capsys.readouterr().out


def test_a_command_is_required():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["keys"])
    with pytest.raises(SystemExit):
        build_parser().parse_args([])


def test_the_installed_command_uses_the_environment(config):
    env = {**os.environ, "QX_DATABASE_URL": config.database_url, "QX_DATA_DIR": str(config.data_dir),
           "QX_LOG_JSON": "false"}
    command = Path(sys.executable).with_name("qx-accounts")
    rotated = subprocess.run([str(command), "keys", "rotate"], env=env, capture_output=True, text=True, timeout=60)
    assert rotated.returncode == 0, rotated.stderr
    listed = subprocess.run([str(command), "keys", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and rotated.stdout.split()[0] in listed.stdout


def test_a_new_installation_gets_its_administrator_from_the_command_line(client, config, capsys, monkeypatch):
    monkeypatch.setenv("QX_ADMIN_PASSWORD", "Admin-2026-pass")
    assert main(["create-admin", "--username", "gd-admin"], config=config) == 0
    assert "administrator gd-admin created" in capsys.readouterr().out
    tokens = client.post("/auth/login", json={"username": "gd-admin", "password": "Admin-2026-pass"}).get_json()
    me = client.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert me["role"] == "admin"
    created = client.post("/province-accounts", headers={"Authorization": f"Bearer {tokens['access_token']}"},
                          json={"province": "44", "username": "gd-prov", "display_name": "广东省",
                                "password": "Prov-2026-pass"})
    assert created.status_code == 201, created.get_json()  # and the administrator makes the provinces'
    assert main(["create-admin", "--username", "gd-admin"], config=config) == 1  # once
    assert "username_taken" in capsys.readouterr().err
    monkeypatch.setenv("QX_ADMIN_PASSWORD", "short")
    assert main(["create-admin", "--username", "other-admin"], config=config) == 1
    monkeypatch.delenv("QX_ADMIN_PASSWORD")
    assert main(["create-admin", "--username", "other-admin"], config=config) == 2  # no terminal to ask at
