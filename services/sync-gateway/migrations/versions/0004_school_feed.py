"""The school feed: per-school entries with their cursor, broker credentials, webhook subscriptions,
deliveries and attempts.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from quxiang.sync_gateway.adapters.tables import FEED_TABLES, metadata

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=list(FEED_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(FEED_TABLES))
