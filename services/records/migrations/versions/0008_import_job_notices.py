"""``import_jobs.notices``: the rows a succeeded import names to the school: those of withdrawn
graduates it left alone, and those whose graduation year it changed (which the school confirmed).

Earlier revisions create tables from the live definitions, so on a fresh database the column exists
already when this revision runs; it adds only what is missing.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("import_jobs", sa.Column("notices", sa.JSON))


def downgrade() -> None:
    drop_columns("import_jobs", "notices")
