"""Issuing activation codes reads and counts a school's codes never handed out: without an index
that read every code of the deployment (one per graduate) at every batch.

Revision ID: 0007
Revises: 0006
"""

from quxiang.common.migrations import add_index, drop_index

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_index("ix_activation_codes_unissued", "activation_codes", ["school_code", "exam_number"],
              where="issued_at IS NULL AND used_at IS NULL")


def downgrade() -> None:
    drop_index("ix_activation_codes_unissued", "activation_codes")
