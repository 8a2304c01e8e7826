"""A list's ORDER BY term: empty keys last on every database, and NOT NULL keys left to their index."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from quxiang.common.db import sort_order

rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True),
             Column("exam_number", String(20), nullable=False), Column("student_number", String(30)))
joined = Table("joined", MetaData(), Column("id", Integer, primary_key=True),
               Column("updated_at", String(30), nullable=False))


def _sql(term, dialect) -> str:
    return str(select(rows.c.id).order_by(term).compile(dialect=dialect))


def test_a_nullable_key_puts_empty_rows_last_in_either_order_on_every_database():
    for dialect in (postgresql.dialect(), sqlite.dialect()):
        assert _sql(sort_order(rows.c.student_number, True), dialect).endswith("DESC NULLS LAST")
        assert _sql(sort_order(rows.c.student_number, False), dialect).endswith("ASC NULLS LAST")
        # an expression may be NULL: it gets the same
        assert _sql(sort_order(func.coalesce(rows.c.student_number, rows.c.exam_number), True),
                    dialect).endswith("DESC NULLS LAST")


def test_a_not_null_key_keeps_the_plain_order_an_index_serves():
    # DESC NULLS LAST on a NOT NULL column kept PostgreSQL from scanning its index backwards.
    assert _sql(sort_order(rows.c.exam_number, True, rows), postgresql.dialect()).endswith("rows.exam_number DESC")
    assert _sql(sort_order(rows.c.exam_number, False, rows), postgresql.dialect()).endswith("rows.exam_number ASC")


def test_a_not_null_column_of_an_outer_joined_table_may_still_be_null():
    # registrations.updated_at is NOT NULL, but a graduate without a registration has none
    assert _sql(sort_order(joined.c.updated_at, True, rows), postgresql.dialect()).endswith("DESC NULLS LAST")
    assert _sql(sort_order(rows.c.exam_number, True), postgresql.dialect()).endswith("DESC NULLS LAST")
