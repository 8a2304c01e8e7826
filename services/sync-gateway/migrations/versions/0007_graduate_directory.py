"""The roster as sync-gateway hears it, so a name corrected by a re-import reaches the records already
mirrored: ``sync_graduates``, filled from the ledger's rows as placeholders (roster_sequence 0) that
the roster's next events replace.

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
    op.create_table(
        "sync_graduates",
        sa.Column("graduate_id", sa.String(36), primary_key=True),
        sa.Column("exam_number", sa.String(32), nullable=False),
        sa.Column("school_code", sa.String(10), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("department_id", sa.String(36)),
        sa.Column("roster_sequence", sa.Integer, nullable=False),
    )
    # One row per graduate already in the ledger; the name of its newest ledger row.
    op.execute("""
        INSERT INTO sync_graduates (graduate_id, exam_number, school_code, name, department_id, roster_sequence)
        SELECT r.graduate_id, r.exam_number, r.school_code, r.name, r.department_id, 0
        FROM sync_records r
        JOIN (SELECT graduate_id, MAX(id) AS id FROM sync_records GROUP BY graduate_id) newest ON newest.id = r.id
    """)


def downgrade() -> None:
    op.drop_table("sync_graduates")
