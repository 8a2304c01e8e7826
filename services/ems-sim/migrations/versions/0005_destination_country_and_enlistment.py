"""A destination's 留学国家（地区） and 入伍通知书编号, which signing's events carry for the EMS.

Revision ID: 0005
Revises: 0004

0003 creates the tables from the current metadata, so a database made from scratch has the columns
already: each is added only where it is missing.
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "ems_destinations"
COLUMNS = (("study_country", 200), ("enlistment_notice_number", 64))


def upgrade() -> None:
    add_columns(TABLE, *(sa.Column(name, sa.String(length)) for name, length in COLUMNS))


def downgrade() -> None:
    drop_columns(TABLE, *(name for name, _ in COLUMNS))
