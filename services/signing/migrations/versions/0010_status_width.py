"""Agreement and termination statuses widen from 30 to 40 characters: a department's rejection of
an offline application (``application_department_rejected``, 31) did not fit, and PostgreSQL
refused the review.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("agreements", "terminations")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("status", existing_type=sa.String(30), type_=sa.String(40), existing_nullable=False)


def downgrade() -> None:
    long = sum(op.get_bind().execute(sa.text(
        f"SELECT count(*) FROM {table} WHERE length(status) > 30")).scalar()  # noqa: S608 - constant names
        for table in TABLES)
    if long:
        raise RuntimeError(f"{long} agreements or terminations have a status longer than 30 characters, which "
                           "the earlier code cannot store; they must change state before this downgrade")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("status", existing_type=sa.String(40), type_=sa.String(30), existing_nullable=False)
