"""Every record's 毕业年份 and 学历层次: the system counts and reports per cohort and per level.

Revision ID: 0006
Revises: 0005

0003 creates the tables from the current metadata, so a database made from scratch has the columns
already: each is added only where it is missing. Records mirrored before carry neither until the
platform sends them again (``qx-sync fill-cohorts``, docs/operations.md).
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("ems_destinations", "ems_archives", "ems_hukous")


def upgrade() -> None:
    for table in TABLES:
        add_columns(table, sa.Column("graduation_year", sa.Integer()), sa.Column("education_level", sa.String(20)))


def downgrade() -> None:
    for table in TABLES:
        drop_columns(table, "graduation_year", "education_level")
