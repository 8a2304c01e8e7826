"""``registrations.approved_once``: the school approved the registration at least once. An approval
stands from then on (a refused change goes back to it), so the lists, the snapshots and the events
say ``approval_stands`` from this column instead of asking the history row by row (which made an
export of a school's 30,000 graduates twice as slow). Filled from the history here.

Earlier revisions create tables from the live definitions, so on a fresh database the column exists
already when this revision runs; it adds only what is missing.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from quxiang.common.migrations import add_columns, drop_columns
from quxiang.records.adapters.tables import registration_history, registrations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("registrations", sa.Column("approved_once", sa.Boolean, nullable=False, server_default=sa.false()))
    approved = sa.exists().where(registration_history.c.registration_id == registrations.c.id,
                                 registration_history.c.action == "school_approve")
    op.get_bind().execute(sa.update(registrations).where(approved, registrations.c.approved_once.is_(False))
                          .values(approved_once=True))


def downgrade() -> None:
    drop_columns("registrations", "approved_once")
