"""移出生源: a graduate the school took off its roster (``graduates.withdrawn``) gets no new
invitation, agreement or destination registration until records puts it back. Graduates already
here are on the roster.

Earlier revisions may create tables from the live definitions, so on a fresh database the column
exists already when this revision runs; it adds only what is missing.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("graduates", sa.Column("withdrawn", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    drop_columns("graduates", "withdrawn")
