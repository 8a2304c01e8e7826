"""An index on ``terminations.graduate_id``: the 解约 list's search finds graduates through their
indexes (0015) and then their terminations, which it read whole without it, once for each of the
graduate's columns.

Revision ID: 0016
Revises: 0015
"""

from quxiang.common.migrations import add_index, drop_index
from quxiang.signing.adapters.tables import TERMINATIONS_GRADUATE_INDEX

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_index(TERMINATIONS_GRADUATE_INDEX, "terminations", ["graduate_id"])


def downgrade() -> None:
    drop_index(TERMINATIONS_GRADUATE_INDEX, "terminations")
