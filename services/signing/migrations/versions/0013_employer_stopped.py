"""A unit whose account a province stopped (``employers.stopped``, from ``accounts.user.disabled``
naming the unit): its open invitations close, and no graduate accepts, no school approves and no
online termination is asked of it until the province enables it again. Units already here are not
stopped (a stop before this revision is not replayed: the province stops the unit again).

Earlier revisions may create tables from the live definitions, so on a fresh database the columns
exist already when this revision runs; it adds only what is missing.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("employers", sa.Column("stopped", sa.Boolean, nullable=False, server_default=sa.false()),
                sa.Column("stopped_sequence", sa.Integer, nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    drop_columns("employers", "stopped", "stopped_sequence")
