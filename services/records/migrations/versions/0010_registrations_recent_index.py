"""The 图7 lists by 更新时间 at a province's scale: an index of each module's registrations most
recently changed first, with their graduates (``registration_lists`` finds a page's graduates with a
registration from it, those without from the roster's own order, ``db.keys_nulls_last``). Both
databases.

Creating it reads the registrations once (seconds for 400,000) while writes to them wait.

Revision ID: 0010
Revises: 0009
"""

from quxiang.common.migrations import add_defined_indexes, drop_index
from quxiang.records.adapters.tables import RECENT_INDEX, registrations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_defined_indexes(registrations, (RECENT_INDEX,))


def downgrade() -> None:
    drop_index(RECENT_INDEX, "registrations")
