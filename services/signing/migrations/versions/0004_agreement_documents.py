"""The approved agreements' PDFs and their SHA-256.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from quxiang.signing.adapters.tables import DOCUMENT_TABLES, metadata

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=list(DOCUMENT_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(DOCUMENT_TABLES))
