"""Two lookups that read whole tables: an invitation finds its graduate by 考生号 (every graduate of
the province read), and the renderer finds the due documents (every document kept read, each time it
looks). Both tables grow all season, so both get an index.

Earlier migrations create their tables from the live definitions, so on a fresh database the indexes
exist already; hence IF NOT EXISTS.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DUE = sa.text("pdf IS NULL")


def upgrade() -> None:
    op.create_index("ix_signing_graduates_exam_number", "graduates", ["exam_number"], if_not_exists=True)
    op.create_index("ix_agreement_documents_due", "agreement_documents", ["created_at"], if_not_exists=True,
                    postgresql_where=DUE, sqlite_where=DUE)


def downgrade() -> None:
    op.drop_index("ix_agreement_documents_due", "agreement_documents", if_exists=True)
    op.drop_index("ix_signing_graduates_exam_number", "graduates", if_exists=True)
