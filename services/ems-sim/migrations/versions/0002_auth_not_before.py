"""The per-user token not-before table that makes revocation effective in this service.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from quxiang.common.migrations import create_auth_tables, drop_auth_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_auth_tables(op.get_bind())


def downgrade() -> None:
    drop_auth_tables(op.get_bind())
