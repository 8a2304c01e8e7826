"""Online signing: agreements, their audit trail and number counters, the schools' signing
settings, and the local copies of schools, departments, modules, employers and graduates.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from quxiang.signing.adapters.tables import SIGNING_TABLES, metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=list(SIGNING_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(SIGNING_TABLES))
