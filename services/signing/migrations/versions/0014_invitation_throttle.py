"""The count of a unit's invitations that named no graduate, for slowing down guessing.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

from quxiang.signing.adapters.tables import invitation_throttle, metadata

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=[invitation_throttle])


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=[invitation_throttle])
