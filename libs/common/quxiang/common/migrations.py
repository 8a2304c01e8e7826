"""Alembic, run the same way for every service: ``upgrade(config, definition)`` and a shared env.py body."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from alembic import command, context, op
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, pool, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from quxiang.common.auth.revocation import auth_metadata
from quxiang.common.bus.tables import bus_metadata, ensure_partitions
from quxiang.common.config import Config
from quxiang.common.db import make_engine
from quxiang.common.service import ServiceDefinition


def alembic_config(definition: ServiceDefinition, url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(definition.migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["service"] = definition.name
    return cfg


@contextmanager
def _maintenance(url: str) -> Iterator[tuple[Connection, str] | None]:
    """An autocommit connection to the server's ``postgres`` database and the name of ``url``'s
    database; None for SQLite (its files create and remove themselves)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield None
        return
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        with admin.connect() as conn:
            yield conn, parsed.database
    finally:
        admin.dispose()


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist (SQLite files create themselves)."""
    with _maintenance(url) as admin:
        if admin is not None:
            conn, name = admin
            if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).first():
                try:
                    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                except DBAPIError:
                    # another process migrating at the same moment made it first: fine, if it is there
                    if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).first():
                        raise


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database of ``url`` if it exists, closing its connections (SQLite: nothing)."""
    with _maintenance(url) as admin:
        if admin is not None:
            conn, name = admin
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def upgrade(config: Config, definition: ServiceDefinition, engine: Engine | None = None) -> None:
    """Bring the service's database to the newest revision and fill the outbox partitions."""
    url = config.database_url_for(definition.name)
    ensure_database(url)
    command.upgrade(alembic_config(definition, url), "head")
    own = engine or make_engine(url, poolclass=pool.NullPool)
    try:
        with own.begin() as conn:
            ensure_partitions(conn, config.outbox_partitions)
    finally:
        if engine is None:
            own.dispose()


class SchemaDrift(RuntimeError):
    """The database at the newest revision is not what the code's tables declare."""


def run_env(target_metadata: MetaData | Sequence[MetaData]) -> None:
    """The body of every service's migrations/env.py (online mode only: we always have the database).

    On PostgreSQL the whole run holds a transaction-scoped advisory lock of the database, so two
    processes migrating at once (a Job retried beside a pod still stopping, two ``make migrate``)
    run one after the other: the second finds the first's revision and has nothing to do. At the
    newest revision the database is compared with the code's tables, and a difference fails the
    run (rolled back, nothing half-done): a database one revision already ran on would otherwise
    silently miss what a change to that revision's tables added."""
    metadatas = [bus_metadata, auth_metadata,
                 *(list(target_metadata) if isinstance(target_metadata, Sequence) else [target_metadata])]
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadatas,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_database()))"))
            context.run_migrations()
            _refuse_drift(connection, metadatas)
    engine.dispose()


def _refuse_drift(connection: Connection, metadatas: Sequence[MetaData]) -> None:
    migration = context.get_context()
    if set(migration.get_current_heads()) != set(context.get_head_revisions() or ()):
        return  # a step down (or to an older revision): the code's tables are not the target
    differences = schema_differences(connection, metadatas)
    if differences:
        listed = "; ".join(str(d) for d in differences[:20])
        raise SchemaDrift(f"the database at the newest revision differs from the code's tables "
                          f"({len(differences)} differences: {listed}); a migration is missing for them")


def schema_differences(connection: Connection, metadatas: Sequence[MetaData]) -> list[Any]:
    """What differs between the database and the tables' definitions, leaving out the indexes meant
    for another database (``Index.info["dialect"]``, beside their ``ddl_if``)."""
    dialect = connection.dialect.name

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (type_ == "index" and not reflected and obj.info.get("dialect", dialect) != dialect)

    context_ = MigrationContext.configure(connection, opts={"include_object": include})
    with warnings.catch_warnings():
        # an index on an expression (text_search.chars_index) cannot be compared; said at every start
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        return list(compare_metadata(context_, list(metadatas)))


def drop_bus_tables(bind: Engine | object) -> None:
    """Reverse of ``create_bus_tables`` for a service's first migration's downgrade."""
    bus_metadata.drop_all(bind)  # type: ignore[arg-type]


def create_auth_tables(bind: Engine | object) -> None:
    """The per-user token not-before table every service keeps (its second migration)."""
    auth_metadata.create_all(bind)  # type: ignore[arg-type]


def drop_auth_tables(bind: Engine | object) -> None:
    auth_metadata.drop_all(bind)  # type: ignore[arg-type]


AUTH_RECENT_INDEX = "ix_auth_not_before_not_before"


def add_auth_recent_index() -> None:
    """The index on ``auth_not_before.not_before`` that the revocation list reads recent entries by
    (a later migration of every service; its second one makes it on a fresh database)."""
    add_index(AUTH_RECENT_INDEX, "auth_not_before", ["not_before"])


def drop_auth_recent_index() -> None:
    """``add_auth_recent_index``'s downgrade."""
    drop_index(AUTH_RECENT_INDEX, "auth_not_before")


def add_index(name: str, table: str, columns: Sequence[str], where: str | None = None,
              include: Sequence[str] = ()) -> None:
    """A later migration's index on a table an earlier one created from the live table definitions:
    on a fresh database that migration made the index already, hence IF NOT EXISTS. ``where`` makes
    it partial, on PostgreSQL and SQLite alike; ``include`` adds columns to its leaves on PostgreSQL
    (an index-only scan), which SQLite does without."""
    options: dict[str, Any] = {} if where is None else {"postgresql_where": text(where), "sqlite_where": text(where)}
    if include:
        options["postgresql_include"] = list(include)
    op.create_index(name, table, list(columns), if_not_exists=True, **options)


def add_defined_indexes(table: Table, names: Sequence[str]) -> None:
    """A later migration's indexes as the live definition of ``table`` declares them (on expressions,
    GIN, one database only: what ``add_index`` cannot say): those of ``names`` this database takes
    and lacks are created (an extension they need must exist: ``text_search.ensure_trigrams``)."""
    bind = op.get_bind()
    present = {index["name"] for index in sa_inspect(bind).get_indexes(table.name)}
    for index in table.indexes:
        if index.name in names and index.name not in present:
            index.create(bind)


def drop_index(name: str, table: str) -> None:
    """``add_index``'s downgrade."""
    op.drop_index(name, table, if_exists=True)


def add_columns(table: str, *columns: Any) -> None:
    """A later migration's columns on a table an earlier one created from the live table definitions:
    on a fresh database that migration made them already, so only the missing ones are added."""
    present = _column_names(table)
    missing = [column for column in columns if column.name not in present]
    if missing:
        with op.batch_alter_table(table) as batch:
            for column in missing:
                batch.add_column(column)


def drop_columns(table: str, *names: str) -> None:
    """``add_columns``'s downgrade: the named columns that are there."""
    present = [name for name in names if name in _column_names(table)]
    if present:
        with op.batch_alter_table(table) as batch:
            for name in present:
                batch.drop_column(name)


def _column_names(table: str) -> set[str]:
    return {column["name"] for column in sa_inspect(op.get_bind()).get_columns(table)}
