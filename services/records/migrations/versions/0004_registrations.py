"""Confirmations of the base data, archive and hukou registrations, their history, the schools'
settings, the switched-on modules and the transfer number counters.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from quxiang.records.adapters.tables import REGISTRATION_TABLES, metadata

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=list(REGISTRATION_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(REGISTRATION_TABLES))
