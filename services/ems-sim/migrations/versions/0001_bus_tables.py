"""The bus tables: outbox, outbox partitions, inbox.

Revision ID: 0001
Revises:
"""

from alembic import op

from quxiang.common.bus.tables import create_bus_tables
from quxiang.common.migrations import drop_bus_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_bus_tables(op.get_bind(), partitions=0)  # partition rows follow the config: migrations.upgrade


def downgrade() -> None:
    drop_bus_tables(op.get_bind())
