"""The read model: schools, departments, modules, aggregates, graduates and the counters.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from quxiang.stats.adapters.tables import READ_MODEL_TABLES, metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=list(READ_MODEL_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(READ_MODEL_TABLES))
