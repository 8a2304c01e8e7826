"""ensure_database / drop_database (quxiang.common.migrations) on the real PostgreSQL."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text

from quxiang.common.migrations import drop_database, ensure_database


def _exists(postgres, name: str) -> bool:
    with postgres._admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def test_a_database_is_made_once_and_dropped_with_its_connections(postgres):
    name = f"qx_t_dbcheck_{uuid.uuid4().hex[:8]}"
    url = postgres.url_for(name)
    ensure_database(url)
    ensure_database(url)  # already there: nothing to do, no error
    assert _exists(postgres, name)
    holder = create_engine(url).connect()
    holder.execute(text("SELECT 1"))
    drop_database(url)  # an open connection does not keep it
    assert not _exists(postgres, name)
    holder.invalidate()  # its server side is gone
    drop_database(url)  # gone already: no error


def test_sqlite_urls_are_left_to_the_file_system(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    ensure_database(url)
    drop_database(url)
    assert not (tmp_path / "x.db").exists()
