"""An archive/hukou registration whose approval stands while a change is in review counts as 已登记
(``stat_aggregates.approval_stands``, from records' events). Rows stored before this revision do not
know it: ``qx-stats rebuild --from-services`` after the upgrade reads it from records' snapshots
(docs/operations.md).

Earlier revisions create tables from the live definitions, so on a fresh database the column exists
already when this revision runs; it adds only what is missing.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_columns("stat_aggregates",
                sa.Column("approval_stands", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    drop_columns("stat_aggregates", "approval_stands")
