"""Offline and supplementary signing, termination and voiding: attachments and termination requests.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from quxiang.signing.adapters.tables import FLOW_TABLES, metadata

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=list(FLOW_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(FLOW_TABLES))
