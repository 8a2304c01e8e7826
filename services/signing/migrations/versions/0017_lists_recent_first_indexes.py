"""The lists' default order, most recently changed first, through an index on each listed table
(``updated_at DESC`` and the list's tie-breaker): a province user's first page of 在线签约 read its
20 rows from the index where it sorted every agreement in the province (91 ms of a 170 ms request at
306,000 agreements). Both databases.

Creating them reads the agreements, terminations and destination registrations once while writes to
those tables wait.

Revision ID: 0017
Revises: 0016
"""

from quxiang.common.migrations import add_defined_indexes, drop_index
from quxiang.signing.adapters.destination_tables import DESTINATIONS_RECENT_INDEX, destination_registrations
from quxiang.signing.adapters.tables import RECENT_INDEXES, agreements, terminations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_INDEXES = ((agreements, RECENT_INDEXES["agreements"]), (terminations, RECENT_INDEXES["terminations"]),
            (destination_registrations, DESTINATIONS_RECENT_INDEX))


def upgrade() -> None:
    for table, name in _INDEXES:
        add_defined_indexes(table, (name,))


def downgrade() -> None:
    for table, name in _INDEXES:
        drop_index(name, table.name)
