"""移出生源: a school takes a graduate off its roster. The graduate's row stays, marked
(``graduates.withdrawn_at``, ``withdrawn_reason``, ``withdrawn_by``); an import job counts the rows
of withdrawn graduates it left alone (``import_jobs.withdrawn``); and ``signing_records`` lists the
graduates signing holds something about, which may not be withdrawn.

Earlier revisions create tables from the live definitions, so on a fresh database the columns exist
already when this revision runs; it adds only what is missing.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from quxiang.common.migrations import add_columns, drop_columns
from quxiang.records.adapters.tables import WITHDRAWAL_TABLES, metadata

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("graduates", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("withdrawn_reason", sa.String(200), nullable=True),
                sa.Column("withdrawn_by", sa.String(36), nullable=True))
    add_columns("import_jobs", sa.Column("withdrawn", sa.Integer, nullable=False, server_default=sa.text("0")))
    metadata.create_all(op.get_bind(), tables=list(WITHDRAWAL_TABLES))


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=list(WITHDRAWAL_TABLES))
    drop_columns("import_jobs", "withdrawn")
    drop_columns("graduates", "withdrawn_at", "withdrawn_reason", "withdrawn_by")
