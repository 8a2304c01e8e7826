"""Searching names and codes (quxiang.common.text_search): the same rows on both databases, with
PostgreSQL's indexes made by ``create_all`` (and the extension before them), and the schema check
that leaves out the indexes meant for the other database but sees one missing on its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select, text
from sqlalchemy.engine import Engine

from quxiang.common.db import make_engine
from quxiang.common.migrations import schema_differences
from quxiang.common.text_search import (
    chars_index,
    search_params,
    searched,
    trigram_index,
    use_trigrams,
)

NAMES = ("欧阳娜娜", "王伟", "Ali Khan", "A_B科技", "100%服务")
CODES = ("264401000001", "AB", "S-77", "x%y", "264401000002")


def _table() -> Table:
    table = Table("people", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(20)),
                  Column("code", String(20)))
    chars_index("ix_people_name_chars", table.c.name)
    trigram_index("ix_people_code_trgm", table.c.code)
    use_trigrams(table)
    return table


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _found(engine: Engine, table: Table, q: str) -> list[str]:
    """What the search finds, built once with parameters and built for ``q`` with its values bound:
    the two must agree."""
    by_parameters = select(table.c.id).where(searched([table.c.name], [table.c.code])).order_by(table.c.id)
    by_values = select(table.c.id).where(searched([table.c.name], [table.c.code], q)).order_by(table.c.id)
    with engine.connect() as conn:
        ids = conn.execute(by_parameters, search_params(q)).scalars().all()
        assert conn.execute(by_values).scalars().all() == ids
    return [f"{NAMES[i]}|{CODES[i]}" for i in ids]


@pytest.mark.parametrize(("q", "found"), [
    ("阳娜", ["欧阳娜娜|264401000001"]), ("娜阳", []), ("娜", ["欧阳娜娜|264401000001"]),
    ("ALI", ["Ali Khan|S-77"]), ("i k", ["Ali Khan|S-77"]),
    ("000001", ["欧阳娜娜|264401000001"]), ("2644", ["欧阳娜娜|264401000001", "100%服务|264401000002"]),
    ("ab", ["王伟|AB"]),              # shorter than three: the code equal to it (and names holding it)
    ("01", []),                       # not every code holding it
    ("%", ["100%服务|264401000002"]),   # literally: in a name; as a code, only one equal to it
    ("_", ["A_B科技|x%y"]), ("x%y", ["A_B科技|x%y"]),
])
def test_names_hold_the_query_and_codes_hold_or_equal_it(engine: Engine, q: str, found: list[str]) -> None:
    table = _table()
    table.metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(table.insert(), [{"id": i, "name": n, "code": c}
                                          for i, (n, c) in enumerate(zip(NAMES, CODES, strict=True))])
        assert _found(engine, table, q) == found
    finally:
        table.drop(engine)


def test_the_indexes_are_made_on_postgresql_only_and_checked_where_they_belong(engine: Engine) -> None:
    table = _table()
    table.metadata.create_all(engine)
    try:
        made = {index["name"] for index in inspect(engine).get_indexes("people")}
        on_postgresql = engine.dialect.name == "postgresql"
        assert made == ({"ix_people_name_chars", "ix_people_code_trgm"} if on_postgresql else set())
        with engine.connect() as conn:
            assert schema_differences(conn, [table.metadata]) == []
        if on_postgresql:
            with engine.begin() as conn:
                conn.execute(text("DROP INDEX ix_people_code_trgm"))
            with engine.connect() as conn:
                missing = schema_differences(conn, [table.metadata])
            assert [(d[0], d[1].name) for d in missing] == [("add_index", "ix_people_code_trgm")]
    finally:
        table.drop(engine)
