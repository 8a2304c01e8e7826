"""移出生源: a graduate the school took off its roster is counted nowhere (``stat_graduates.withdrawn``)
until records puts it back. Existing graduates are on the roster.

Earlier revisions create tables from the live definitions, so on a fresh database the column exists
already when this revision runs; it adds only what is missing.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("stat_graduates", sa.Column("withdrawn", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    drop_columns("stat_graduates", "withdrawn")
