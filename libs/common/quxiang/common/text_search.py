"""Searching a list for part of a name or a code, found through an index on PostgreSQL at a
province's scale (half a million graduates) rather than by reading every row.

- Names (Chinese, two to four characters, searched by one or two of them): a GIN index of the
  name's characters (``chars_index``), and ``name_contains`` asks for the rows holding every
  character of the query before its ILIKE decides. A trigram index cannot serve a two-character
  query, and whether it sees Chinese characters as letters depends on the database's locale; the
  characters of a string do not.
- Codes (考生号, 学号, credit codes: letters and digits): a trigram index (``trigram_index``, the
  ``pg_trgm`` extension), which serves ``ILIKE '%...%'`` from three characters on. A shorter query
  finds the codes equal to it (``code_matches``), which the same index serves: two characters
  inside thousands of codes find nothing a user could page through.

SQLite (the embedded default) has neither index; the conditions there are plain ILIKEs, and give
the same rows, except that SQLite folds the case of ASCII letters only (ｂ does not find Ｂ there, as
it never did).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import (
    DDL,
    Column,
    ColumnElement,
    FromClause,
    Index,
    String,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    event,
    func,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean

from quxiang.common.db import LIKE_ESCAPE, contains_pattern

# A query shorter than this finds codes equal to it, not containing it (trigrams are three long).
MIN_CONTAINED_CODE = 3


def _characters(expression: Any) -> Any:
    # The index's expression and the query's must be the same for the planner to use the index.
    return func.string_to_array(func.lower(expression), None)


def chars_index(name: str, column: ColumnElement[Any], where: str | None = None) -> Index:
    """A GIN index of the lower-cased characters of ``column`` (or of an expression over one table's
    columns, such as ``json_text``), for ``name_contains`` (PostgreSQL only)."""
    options: dict[str, Any] = {"postgresql_using": "gin"}
    if where:
        options["postgresql_where"] = text(where)
    return _postgresql_only(Index(name, _characters(column), **options))


def trigram_index(name: str, column: Column[Any], where: str | None = None) -> Index:
    """A GIN trigram index of ``column``, for ``code_matches`` (PostgreSQL only; ``use_trigrams``)."""
    options: dict[str, Any] = {"postgresql_using": "gin", "postgresql_ops": {column.name: "gin_trgm_ops"}}
    if where:
        options["postgresql_where"] = text(where)
    return _postgresql_only(Index(name, column, **options))


def _postgresql_only(index: Index) -> Index:
    # ddl_if for create_all; info for the schema comparison, which does not read ddl_if
    index.info["dialect"] = "postgresql"
    return index.ddl_if(dialect="postgresql")


TRIGRAM_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"


def use_trigrams(table: Table) -> None:
    """Create ``pg_trgm`` before ``table`` (whose trigram indexes need it) on PostgreSQL. A trusted
    extension: the database's owner may create it (docs/operations.md)."""
    event.listen(table, "before_create", DDL(TRIGRAM_EXTENSION).execute_if(dialect="postgresql"))


def ensure_trigrams(bind: Connection) -> None:
    """``use_trigrams`` for a migration that adds trigram indexes to a table that exists."""
    if bind.dialect.name == "postgresql":
        bind.execute(text(TRIGRAM_EXTENSION))


class _HasCharacters(ColumnElement[bool]):
    """``column``'s characters include every character of ``query`` (PostgreSQL); true elsewhere."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [("column", InternalTraversal.dp_clauseelement),
                                                             ("query", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any], query: ColumnElement[Any]) -> None:
        self.column = column
        self.query = query

    @property
    def _from_objects(self) -> list[Any]:  # type: ignore[override]
        # its column's table, so that a statement with this condition alone still reads FROM it
        return self.column._from_objects


@compiles(_HasCharacters)
def _has_characters_elsewhere(element: _HasCharacters, compiler: Any, **kw: Any) -> str:
    return "1 = 1"


@compiles(_HasCharacters, "postgresql")
def _has_characters_on_postgresql(element: _HasCharacters, compiler: Any, **kw: Any) -> str:
    contains = _characters(element.column).op("@>")(_characters(cast(element.query, Text)))
    return compiler.process(contains, **kw)


_JSON_KEY = re.compile(r"[a-z_]+")


class _JsonText(ColumnElement[str]):
    """The text under ``key`` of a JSON column, the key written into the SQL (``json_text``)."""

    type = String()
    inherit_cache = True
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [("column", InternalTraversal.dp_clauseelement),
                                                             ("key", InternalTraversal.dp_string)]

    def __init__(self, column: ColumnElement[Any], key: str) -> None:
        if not _JSON_KEY.fullmatch(key):
            raise ValueError(f"not a JSON key this SQL may hold: {key!r}")
        self.column = column
        self.key = key

    @property
    def _from_objects(self) -> list[Any]:  # type: ignore[override]
        return self.column._from_objects


@compiles(_JsonText)
def _json_text_elsewhere(element: _JsonText, compiler: Any, **kw: Any) -> str:
    # as text, as on PostgreSQL: json_extract answers a JSON number as a number
    return f"CAST(json_extract({compiler.process(element.column, **kw)}, '$.{element.key}') AS VARCHAR)"


@compiles(_JsonText, "postgresql")
def _json_text_on_postgresql(element: _JsonText, compiler: Any, **kw: Any) -> str:
    # No parentheses: PostgreSQL writes the index's expression back without them, and ->> binds
    # tighter than the comparisons and LIKEs it meets in a list's statements.
    return f"{compiler.process(element.column, **kw)} ->> '{element.key}'"


def json_text(column: ColumnElement[Any], key: str) -> ColumnElement[str]:
    """``column[key]`` as text, the key a constant of the SQL: SQLAlchemy's ``column[key]`` binds the
    key as a parameter, and PostgreSQL then matches an index on ``column ->> 'key'`` only when it
    plans for the parameter's value, not in the generic plan of a prepared statement."""
    return _JsonText(column, key)


def name_contains(column: ColumnElement[Any], query: str | ColumnElement[Any],
                  pattern: str | ColumnElement[Any]) -> ColumnElement[bool]:
    """``column`` holds the text bound as ``query``, letter case aside; ``pattern`` is bound to its
    ``search_params`` LIKE pattern (``{pattern}_in_name``). Each a parameter's name or a bound value."""
    return and_(_HasCharacters(column, _bound(query)), column.ilike(_bound(pattern), escape=LIKE_ESCAPE))


def code_matches(column: ColumnElement[Any], pattern: str | ColumnElement[Any]) -> ColumnElement[bool]:
    """``column`` contains (or, for a short query, equals) the text, letter case aside: ``pattern``
    is bound to ``search_params``' LIKE pattern."""
    return column.ilike(_bound(pattern), escape=LIKE_ESCAPE)


def searched(names: Sequence[ColumnElement[Any]], codes: Sequence[ColumnElement[Any]],
             q: str | None = None) -> ColumnElement[bool]:
    """Rows whose names hold the query or whose codes hold (or equal) it: with ``q``, its values
    bound in (a statement built for one request); without, the parameters of ``search_params`` (a
    statement built once and run with each request's values)."""
    values = search_params(q) if q is not None else None

    def bound(name: str) -> str | ColumnElement[Any]:
        return name if values is None else bindparam(name, values[name], unique=True)

    return or_(*(name_contains(column, bound("q_text"), bound("q_in_name")) for column in names),
               *(code_matches(column, bound("q")) for column in codes))


def searched_through(key: ColumnElement[Any], joined: FromClause, names: Sequence[ColumnElement[Any]],
                     codes: Sequence[ColumnElement[Any]]) -> ColumnElement[bool]:
    """``searched`` over columns of several joined tables (a list's agreement and its graduate): a
    row's unique ``key`` among those a SELECT per column finds, each through that column's index,
    where one OR across the tables reads every row. The parameters of ``search_params``."""
    branches = [select(key).select_from(joined).where(name_contains(column, "q_text", "q_in_name"))
                for column in names]
    branches += [select(key).select_from(joined).where(code_matches(column, "q")) for column in codes]
    return key.in_(union_all(*branches))


def _bound(value: str | ColumnElement[Any]) -> ColumnElement[Any]:
    return bindparam(value) if isinstance(value, str) else value


def search_params(q: str, query: str = "q_text", pattern: str = "q") -> dict[str, str]:
    """The values of a search for ``q``: the text itself, and the LIKE pattern of what contains it
    (from ``MIN_CONTAINED_CODE`` characters on) or equals it (shorter) for ``code_matches``, and
    ``{pattern}_in_name`` what contains it for ``name_contains``."""
    contained = contains_pattern(q)
    exact = contained[1:-1]  # the escaped text without the wildcards around it
    return {query: q, pattern: contained if len(q) >= MIN_CONTAINED_CODE else exact,
            f"{pattern}_in_name": contained}
