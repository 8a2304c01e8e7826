"""School aggregate version; the event sequence behind each school settings state row.

``schools.version`` numbers the school's events (created: 1, each agreement type set: +1).
``school_settings_state.sequence`` keeps the latest event per (school, module), so a late, older
event from records or signing does not overwrite a newer state.

0003 creates its tables from the live table definitions, so on a fresh database the columns exist
already when this revision runs; it adds only what is missing.

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa

from quxiang.common.migrations import add_columns, drop_columns

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("schools", "version", "1"),
    ("school_settings_state", "sequence", "0"),
)


def upgrade() -> None:
    for table, column, default in _COLUMNS:
        add_columns(table, sa.Column(column, sa.Integer(), nullable=False, server_default=default))


def downgrade() -> None:
    for table, column, _default in _COLUMNS:
        drop_columns(table, column)
