"""When the school's 移出生源 (records.graduate.withdrawn) disabled a graduate's login
(``activation_codes.withdrawn_at``): putting the graduate back enables only a login the withdrawal
disabled. Rows already there were never withdrawn.

0003 creates its tables from the live table definitions, so on a fresh database the column exists
already when this revision runs; it adds only what is missing.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("activation_codes", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    drop_columns("activation_codes", "withdrawn_at")
