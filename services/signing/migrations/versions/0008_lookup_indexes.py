"""Two lookups that read whole tables: an invitation finds its graduate by 考生号 (every graduate of
the province read), and the renderer finds the due documents (every document kept read, each time it
looks). Both tables grow all season, so both get an index.

Revision ID: 0008
Revises: 0007
"""

from quxiang.common.migrations import add_index, drop_index

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_index("ix_signing_graduates_exam_number", "graduates", ["exam_number"])
    add_index("ix_agreement_documents_due", "agreement_documents", ["created_at"], where="pdf IS NULL")


def downgrade() -> None:
    drop_index("ix_agreement_documents_due", "agreement_documents")
    drop_index("ix_signing_graduates_exam_number", "graduates")
