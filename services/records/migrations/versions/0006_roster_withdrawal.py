"""移出生源: a school takes a graduate off its roster. The graduate's row stays, marked
(``graduates.withdrawn_at``, ``withdrawn_reason``, ``withdrawn_by``); an import job counts the rows
of withdrawn graduates it left alone (``import_jobs.withdrawn``); and ``signing_records`` lists the
graduates signing holds something about, which may not be withdrawn.

``signing_records`` fills from signing's events from now on; the graduates signing held records of
before are not in it. On a database that has graduates already, the upgrade therefore notes
``signing_records_backfill`` in ``pending_work``: taking a graduate off the roster is refused (503)
until ``qx-records backfill-signing-records`` has read them from signing's snapshots.

Earlier revisions create tables from the live definitions, so on a fresh database the columns exist
already when this revision runs; it adds only what is missing.

Revision ID: 0006
Revises: 0005
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from quxiang.common.migrations import add_columns, add_index, drop_columns, drop_index
from quxiang.records.adapters.repository import SIGNING_RECORDS_BACKFILL
from quxiang.records.adapters.tables import ON_ROSTER_INDEX, WITHDRAWAL_TABLES, graduates, metadata, pending_work

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
    add_index(ON_ROSTER_INDEX, "graduates", ["school_code", "exam_number"], where="withdrawn_at IS NULL")
    bind = op.get_bind()
    if bind.execute(sa.select(graduates.c.id).limit(1)).first() is not None:
        bind.execute(sa.insert(pending_work).values(name=SIGNING_RECORDS_BACKFILL, since=datetime.now(UTC)))
        if bind.dialect.name == "postgresql":
            # the new column and index have no statistics yet: without them the planner guessed a
            # school's graduates on the roster at a handful and chose plans for that
            op.execute("ANALYZE graduates")


def downgrade() -> None:
    drop_index(ON_ROSTER_INDEX, "graduates")
    metadata.drop_all(op.get_bind(), tables=list(WITHDRAWAL_TABLES))
    drop_columns("import_jobs", "withdrawn")
    drop_columns("graduates", "withdrawn_at", "withdrawn_reason", "withdrawn_by")
