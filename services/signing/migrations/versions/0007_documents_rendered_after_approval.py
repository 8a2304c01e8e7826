"""Approved agreements' documents are rendered after the approval commits: a due document is a row
whose ``sha256`` and ``pdf`` are still NULL (quxiang.signing.service.documents).

0004 creates the table from the live definition, so on a fresh database the columns are nullable
already; altering them again changes nothing.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agreement_documents") as batch:
        batch.alter_column("sha256", existing_type=sa.String(64), nullable=True)
        batch.alter_column("pdf", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    due = op.get_bind().execute(sa.text("SELECT count(*) FROM agreement_documents WHERE pdf IS NULL")).scalar()
    if due:
        # The earlier code cannot render them: let signing's jobs (render-documents) finish first.
        raise RuntimeError(f"{due} approved agreements' documents are not rendered yet; run qx-jobs signing "
                           "until none is due, then downgrade")
    with op.batch_alter_table("agreement_documents") as batch:
        batch.alter_column("sha256", existing_type=sa.String(64), nullable=False)
        batch.alter_column("pdf", existing_type=sa.LargeBinary(), nullable=False)
