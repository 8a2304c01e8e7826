"""Issuing activation codes reads and counts a school's codes never handed out: without an index
that read every code of the deployment (one per graduate) at every batch.

Earlier migrations create their tables from the live definitions, so on a fresh database the index
exists already; hence IF NOT EXISTS.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from quxiang.accounts.adapters.tables import UNISSUED

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_activation_codes_unissued", "activation_codes", ["school_code", "exam_number"],
                    if_not_exists=True, postgresql_where=UNISSUED, sqlite_where=UNISSUED)


def downgrade() -> None:
    op.drop_index("ix_activation_codes_unissued", "activation_codes", if_exists=True)
