"""A unit's version (``employers.version``): a unit now changes its own data
(``PUT /employers/me``), and each change is ``accounts.employer.updated`` with the next version, so
a service keeping a copy takes the newest whatever order the events arrive in. Units there start at
1, the sequence of their registration.

Earlier revisions create tables from the live definitions, so on a fresh database the column exists
already when this revision runs; it adds only what is missing.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("employers", sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")))


def downgrade() -> None:
    drop_columns("employers", "version")
