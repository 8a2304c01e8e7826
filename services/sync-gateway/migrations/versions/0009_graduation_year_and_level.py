"""毕业年份 and 学历层次 on the ledger's records and its copy of the roster: every record the EMS is
sent now says which cohort and level the graduate belongs to, and a roster correction of either goes
to the EMS again as a new name does.

Rows already there have neither: ``qx-sync fill-cohorts`` gives them records' values and sends their
records again (docs/operations.md, "Upgrading").

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("sync_records", "sync_graduates")


def upgrade() -> None:
    for table in TABLES:
        add_columns(table, sa.Column("graduation_year", sa.Integer(), nullable=True),
                    sa.Column("education_level", sa.String(10), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        drop_columns(table, "graduation_year", "education_level")
