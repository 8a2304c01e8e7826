"""The revocation list reads every recent token not-before entry once a second instead of one
user's entry on each request; an index on the time keeps that read to the recent entries.

Revision ID: 0004
Revises: 0003
"""

from quxiang.common.migrations import add_auth_recent_index, drop_auth_recent_index

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_auth_recent_index()


def downgrade() -> None:
    drop_auth_recent_index()
