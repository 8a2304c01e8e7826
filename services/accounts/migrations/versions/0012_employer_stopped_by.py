"""``employers.stopped_by``: who stopped a unit's account (a province's code, or ``admin``), so that
the other province overseeing it (by the region the unit chose itself) cannot lift the stop. Units
stopped before this revision have none, and either province may lift their stop, as before.

Earlier revisions create tables from the live definitions, so on a fresh database the column exists
already when this revision runs; it adds only what is missing.

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
    add_columns("employers", sa.Column("stopped_by", sa.String(10)))


def downgrade() -> None:
    drop_columns("employers", "stopped_by")
