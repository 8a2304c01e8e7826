"""The 图7 lists at a province's scale: the search (q) through indexes on PostgreSQL, the name's
characters (GIN) and the trigrams of 考生号 and 学号 (GIN, the ``pg_trgm`` extension, created here if
missing: a trusted extension, which the database's owner may create); and the list by 姓名 through
an index in that order, on both databases. All on the graduates on the roster, as the lists are.

Creating them reads the graduates once (about 5 s for 500,000) while writes to them wait.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from quxiang.common.migrations import add_defined_indexes, drop_index
from quxiang.common.text_search import ensure_trigrams
from quxiang.records.adapters.tables import BY_NAME_INDEX, SEARCH_INDEXES, graduates

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ensure_trigrams(op.get_bind())
    add_defined_indexes(graduates, (*SEARCH_INDEXES, BY_NAME_INDEX))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.execute(sa.select(graduates.c.id).limit(1)).first() is not None:
        op.execute("ANALYZE graduates")  # the expression index's statistics, for the planner


def downgrade() -> None:
    for name in (BY_NAME_INDEX, *SEARCH_INDEXES):
        drop_index(name, "graduates")
