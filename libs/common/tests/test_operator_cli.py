"""Operator commands say in one line what is not there, database or broker, and exit 1."""

from __future__ import annotations

from sqlalchemy import text

from quxiang.common.bus.transport import TransportError
from quxiang.common.db import make_engine
from quxiang.common.operator_cli import reports_unreachable_services


@reports_unreachable_services
def _query(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT * FROM agreements"))
        return 0
    finally:
        engine.dispose()


def test_a_database_that_does_not_answer_is_one_line_and_exit_1(capsys):
    assert _query("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2") == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot reach the database:") and len(err.strip().splitlines()) == 1


def test_a_database_without_its_tables_says_to_run_the_migrations(pg_url, capsys):
    assert _query(pg_url) == 1
    assert "is not migrated (run the migrations" in capsys.readouterr().err


def test_sqlite_without_its_tables_is_not_migrated_and_names_the_database(tmp_path, monkeypatch, capsys):
    # A command run without the deployment's settings opens (and creates) a SQLite file of its own.
    from quxiang.records.entrypoints.cli import main

    monkeypatch.setenv("QX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QX_RECORDS_ID_KEY", "a" * 43 + "=")
    assert main(["reencrypt", "--status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"the database (sqlite:///{tmp_path}/records.db) is not migrated"), err
    assert len(err.strip().splitlines()) == 1


def test_a_broker_that_refuses_is_one_line_and_exit_1(capsys):
    @reports_unreachable_services
    def publish() -> int:
        raise TransportError("cannot connect to the broker: [Errno 111] Connection refused")

    assert publish() == 1
    assert capsys.readouterr().err.startswith("cannot reach the broker")


def test_qx_dlq_names_the_consumers_when_given_one_that_is_not_installed(capsys, monkeypatch, tmp_path):
    from quxiang.common.bus.cli import dlq_main

    monkeypatch.setenv("QX_BROKER_URL", "embedded")
    monkeypatch.setenv("QX_DATA_DIR", str(tmp_path))
    assert not dlq_main(["list", "stats.graduate"])
    assert "is no consumer of the installed services" in capsys.readouterr().err
    dlq_main(["list", "stats.graduates"])
    assert "no consumer" not in capsys.readouterr().err


def test_a_database_that_does_not_exist_is_unreachable_not_unmigrated(pg_url, capsys):
    missing = pg_url.rsplit("/", 1)[0] + "/qx_no_such_database_at_all"
    assert _query(missing) == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot reach the database") and "does not exist" in err, err
