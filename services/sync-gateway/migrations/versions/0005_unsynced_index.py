"""The metrics count the ledger's rows not synced at every scrape: without an index that read the
whole ledger (three rows per graduate) each time.

Earlier migrations create their tables from the live definitions, so on a fresh database the index
exists already; hence IF NOT EXISTS.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNSYNCED = sa.text("status IN ('pending', 'failed')")


def upgrade() -> None:
    op.create_index("ix_sync_records_unsynced", "sync_records", ["kind", "status"], if_not_exists=True,
                    postgresql_where=UNSYNCED, sqlite_where=UNSYNCED)


def downgrade() -> None:
    op.drop_index("ix_sync_records_unsynced", "sync_records", if_exists=True)
