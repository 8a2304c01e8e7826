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


def test_a_search_through_two_joined_tables_finds_each_row_once(engine: Engine) -> None:
    """``searched_through``: a name in one table, a JSON name (``json_text``) and a code in the other;
    a row matched by several columns is listed once."""
    from sqlalchemy import JSON, ForeignKey

    from quxiang.common.text_search import json_text, searched_through

    metadata = MetaData()
    people = Table("people", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))
    deals = Table("deals", metadata, Column("number", String(20), primary_key=True),
                  Column("person_id", Integer, ForeignKey("people.id")), Column("unit", JSON))
    unit_name = json_text(deals.c.unit, "name")
    chars_index("ix_deals_unit_chars", unit_name)
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(people.insert(), [{"id": 1, "name": "王伟"}, {"id": 2, "name": "李娜"}])
            conn.execute(deals.insert(), [{"number": "N-001", "person_id": 1, "unit": {"name": "广州王伟科技"}},
                                          {"number": "N-002", "person_id": 2, "unit": {"name": "深圳示例"}},
                                          {"number": "N-003", "person_id": 2, "unit": {}}])
        joined = deals.join(people, people.c.id == deals.c.person_id)
        statement = (select(deals.c.number, unit_name).select_from(joined)
                     .where(searched_through(deals.c.number, joined, [people.c.name, unit_name], [deals.c.number]))
                     .order_by(deals.c.number))
        with engine.connect() as conn:
            def found(q: str) -> list[str]:
                return [number for number, _ in conn.execute(statement, search_params(q))]

            assert found("王伟") == ["N-001"]                       # its graduate's name and its unit's
            assert found("深圳") == ["N-002"] and found("李娜") == ["N-002", "N-003"]
            assert found("n-00") == ["N-001", "N-002", "N-003"] and found("N-") == []
            assert conn.execute(select(unit_name).where(deals.c.number == "N-003")).scalar() is None
            conn.execute(deals.update().where(deals.c.number == "N-003").values(unit={"name": 123}))
            assert conn.execute(select(unit_name).where(deals.c.number == "N-003")).scalar() == "123"  # text
    finally:
        metadata.drop_all(engine)


def test_a_json_key_is_written_into_the_sql_only_when_it_is_a_plain_name() -> None:
    from quxiang.common.text_search import json_text

    table = Table("t", MetaData(), Column("doc", String))
    for key in ("name'; DROP TABLE t; --", "a.b", "", "name\n"):
        with pytest.raises(ValueError, match="JSON key"):
            json_text(table.c.doc, key)
