"""The unit's registered address (``employers.address``), which the agreement's PDF prints as
单位地址: it printed the position's 工作地点 there. Units registered before have none until accounts
sends it again (the unit changes its data); their agreements show the field empty rather than the
wrong place. And the unit's version (``employers.sequence``): units now change their data, and the
newest version is kept whatever order the events arrive in; units there start at 1.

Earlier revisions may create tables from the live definitions, so on a fresh database the column
exists already when this revision runs; it adds only what is missing.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("employers", sa.Column("address", sa.String(200), nullable=True),
                sa.Column("sequence", sa.Integer, nullable=False, server_default=sa.text("1")))


def downgrade() -> None:
    drop_columns("employers", "address", "sequence")
