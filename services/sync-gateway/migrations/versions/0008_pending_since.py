"""Since when a ledger row's current version waits for the EMS (``sync_records.pending_since``): the
status API's backlog age and the lag counted from the event's time, so a record sent again (a new
name, a re-sync, an operator's retry) showed the age of its first event. Rows already there have
none and count from their event, as before. And ``sync_records.recheck_after``: a synced archive or
hukou record whose graduate was renamed is compared with the EMS within seconds rather than at the
next reconciliation.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("sync_records", sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
                sa.Column("recheck_after", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    drop_columns("sync_records", "pending_since", "recheck_after")
