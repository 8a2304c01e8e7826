"""The revocation list reads every recent token not-before entry once a second instead of one
user's entry on each request; an index on the time keeps that read to the recent entries.

Revision ID: 0008
Revises: 0007
"""

from quxiang.common.migrations import add_auth_recent_index, drop_auth_recent_index

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_auth_recent_index()


def downgrade() -> None:
    drop_auth_recent_index()
