import json
import pathlib

import pytest

from quxiang.common.config import ConfigError
from quxiang.common.migrations import AUTH_RECENT_INDEX
from quxiang.common.testing.plugin import database_url, make_test_config
from quxiang.common.testing.service_checks import (
    assert_migrations_round_trip,
    assert_service_boots,
    assert_step_matches_the_tables,
)
from quxiang.ems_sim.adapters.tables import metadata
from quxiang.ems_sim.bootstrap import SERVICE
from quxiang.ems_sim.domain.faults import NO_FAULTS, FaultSettings
from quxiang.ems_sim.entrypoints.faults import faults_from_environment

MIGRATIONS = pathlib.Path(__file__).resolve().parents[1] / "migrations" / "versions"


def test_boots_on_the_embedded_default(tmp_path, monkeypatch):
    monkeypatch.delenv("QX_EMS_FAULTS", raising=False)
    config = make_test_config(SERVICE.name, f"sqlite:///{tmp_path}/db.sqlite", "embedded", tmp_path)
    assert_service_boots(SERVICE, config)
    assert_migrations_round_trip(SERVICE, config)


def test_migrates_on_postgresql(pg_url, tmp_path):
    config = make_test_config(SERVICE.name, pg_url, "embedded", tmp_path)
    assert_migrations_round_trip(SERVICE, config)


def test_the_database_is_named_ems_sim(tmp_path):
    config = make_test_config(SERVICE.name, "", "embedded", tmp_path)
    assert config.database_url_for(SERVICE.name).endswith("/ems_sim.db")


def test_faults_from_the_environment():
    assert faults_from_environment({}) is NO_FAULTS
    settings = faults_from_environment({"QX_EMS_FAULTS": json.dumps({"latency_ms": 20, "throttle_rate": 0.5})})
    assert settings == FaultSettings(latency_ms=20, throttle_rate=0.5)
    for bad in ("{", '{"error_rate": 2}', '{"nope": 1}', "[1]"):
        with pytest.raises(ConfigError, match="QX_EMS_FAULTS"):
            faults_from_environment({"QX_EMS_FAULTS": bad})


def test_the_app_starts_with_the_faults_of_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("QX_EMS_FAULTS", json.dumps({"down": True}))
    config = make_test_config(SERVICE.name, f"sqlite:///{tmp_path}/db.sqlite", "embedded", tmp_path)
    from quxiang.common.migrations import upgrade

    upgrade(config, SERVICE)
    client = SERVICE.create_app(config).test_client()
    assert client.get("/admin/faults").get_json()["down"] is True
    assert client.get("/graduates/1").status_code == 503


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_recent_revocations_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0003", metadata) == {AUTH_RECENT_INDEX}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_database_that_misses_what_the_code_declares_is_refused(database, request, tmp_path):
    # An earlier migration that made its tables from the live definitions had already run here, so
    # a later change to those tables would be silently missing: upgrading says so and stops.
    from sqlalchemy import text

    from quxiang.common.db import make_engine
    from quxiang.common.migrations import SchemaDrift, upgrade

    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    upgrade(config, SERVICE)
    upgrade(config, SERVICE)  # at head and as declared: nothing to say
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE ems_destinations DROP COLUMN study_country"))
    engine.dispose()
    with pytest.raises(SchemaDrift, match="study_country"):
        upgrade(config, SERVICE)


def test_two_processes_migrating_at_once_both_succeed(postgres, tmp_path):
    # A Kubernetes Job retried beside a pod still stopping, two `make migrate`: the second waits for
    # the first (an advisory lock) instead of failing on a half-made table or the database itself.
    # Processes, as in production: alembic keeps its context in module globals, one run per process.
    import subprocess
    import sys

    from sqlalchemy import text

    from quxiang.common.db import make_engine

    url = postgres.create_database()
    postgres.drop_database(url)  # both find no database: each tries to create it
    script = (
        "import sys, pathlib\n"
        "from quxiang.common.testing.plugin import make_test_config\n"
        "from quxiang.common.migrations import upgrade\n"
        "from quxiang.ems_sim.bootstrap import SERVICE\n"
        "upgrade(make_test_config(SERVICE.name, sys.argv[1], 'embedded', pathlib.Path(sys.argv[2])), SERVICE)\n")
    try:
        runs = [subprocess.Popen([sys.executable, "-c", script, url, str(tmp_path)], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True) for _ in range(2)]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], "\n".join(o[-2000:] for o in outputs)
        engine = make_engine(url)
        with engine.connect() as conn:
            newest = max(path.name[:4] for path in MIGRATIONS.glob("0*.py"))
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == newest
            assert conn.execute(text("SELECT count(*) FROM outbox_partition")).scalar_one() == 16
        engine.dispose()
    finally:
        postgres.drop_database(url)
