"""The sync ledger and the schools' provinces.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from quxiang.sync_gateway.adapters.tables import LEDGER_TABLES, metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=list(LEDGER_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(LEDGER_TABLES))
