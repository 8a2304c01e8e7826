"""A destination's 留学国家（地区） and 入伍通知书编号, which signing's events carry for the EMS.

Revision ID: 0005
Revises: 0004

0003 creates the tables from the current metadata, so a database made from scratch has the columns
already: each is added only where it is missing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "ems_destinations"
COLUMNS = (("study_country", 200), ("enlistment_notice_number", 64))


def _present() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}


def upgrade() -> None:
    present = _present()
    missing = [(name, length) for name, length in COLUMNS if name not in present]
    if missing:
        with op.batch_alter_table(TABLE) as batch:
            for name, length in missing:
                batch.add_column(sa.Column(name, sa.String(length)))


def downgrade() -> None:
    present = _present()
    with op.batch_alter_table(TABLE) as batch:
        for name, _ in COLUMNS:
            if name in present:
                batch.drop_column(name)
