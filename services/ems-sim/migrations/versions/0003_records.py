"""The records (destination, archive, hukou) and the idempotency keys.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from quxiang.ems_sim.adapters.tables import EMS_TABLES, metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=list(EMS_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(EMS_TABLES))
