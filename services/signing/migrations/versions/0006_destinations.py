"""去向登记: destination registrations (their audit trail and proofs use the shared tables).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from quxiang.signing.adapters.destination_tables import DESTINATION_TABLES
from quxiang.signing.adapters.tables import metadata

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=list(DESTINATION_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(DESTINATION_TABLES))
