"""The lists' search (q) at a province's scale, on PostgreSQL: an index for each column it reads
(``quxiang.common.text_search``): the characters of the graduate's name, of the agreement's unit name
and of the unit a destination registration names; the trigrams of 考生号, 学号 and 协议编号 (the
``pg_trgm`` extension, created here if missing: a trusted extension, which the database's owner may
create). SQLite (the embedded default) takes none of them.

Creating them reads the graduates, agreements and registrations once (seconds at a province's
scale) while writes to those tables wait.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from quxiang.common.migrations import add_defined_indexes, drop_index
from quxiang.common.text_search import ensure_trigrams
from quxiang.signing.adapters.destination_tables import DESTINATION_UNIT_INDEX, destination_registrations
from quxiang.signing.adapters.tables import SEARCH_INDEXES, agreements, graduates

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_INDEXES = ((graduates, SEARCH_INDEXES["graduates"]), (agreements, SEARCH_INDEXES["agreements"]),
            (destination_registrations, (DESTINATION_UNIT_INDEX,)))


def upgrade() -> None:
    bind = op.get_bind()
    ensure_trigrams(bind)
    for table, names in _INDEXES:
        add_defined_indexes(table, names)
        if bind.dialect.name == "postgresql" and bind.execute(sa.select(sa.literal(1)).select_from(table)
                                                              .limit(1)).first() is not None:
            op.execute(f"ANALYZE {table.name}")  # the expression indexes' statistics, for the planner


def downgrade() -> None:
    for table, names in _INDEXES:
        for name in names:
            drop_index(name, table.name)
