"""When a graduate's activation code was handed out to the school (``activation_codes.issued_at``).

None: the code made at provisioning, which nobody has seen; issuing replaces it with a fresh one and
sets the time, so a school gets each code once. See quxiang.accounts.service.provisioning.

0003 creates its tables from the live table definitions, so on a fresh database the column exists
already when this revision runs; it adds only what is missing.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("activation_codes", sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    drop_columns("activation_codes", "issued_at")
