"""The roster row's version a graduate's account was last brought up to
(``activation_codes.roster_sequence``): an older roster event handled late, or at once with a newer
one by another consumer, no longer overwrites the newer name and department. Rows already there
start at 0, so the next roster event of each applies.

0003 creates its tables from the live table definitions, so on a fresh database the column exists
already when this revision runs; it adds only what is missing.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("activation_codes", sa.Column("roster_sequence", sa.Integer, nullable=False,
                                              server_default=sa.text("0")))


def downgrade() -> None:
    drop_columns("activation_codes", "roster_sequence")
