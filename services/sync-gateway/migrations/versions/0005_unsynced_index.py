"""The metrics count the ledger's rows not synced at every scrape: without an index that read the
whole ledger (three rows per graduate) each time.

Revision ID: 0005
Revises: 0004
"""

from quxiang.common.migrations import add_index, drop_index

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_index("ix_sync_records_unsynced", "sync_records", ["kind", "status"], where="status IN ('pending', 'failed')")


def downgrade() -> None:
    drop_index("ix_sync_records_unsynced", "sync_records")
