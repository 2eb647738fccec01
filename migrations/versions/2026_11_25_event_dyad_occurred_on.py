"""event_dyad.occurred_on: a dyad's history by date straight from one index

Revision ID: event_dyad_occurred_on
Revises: assessment_explanation
Create Date: 2026-11-25 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "event_dyad_occurred_on"
down_revision: str | None = "assessment_explanation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_dyad", schema=None) as batch_op:
        batch_op.add_column(sa.Column("occurred_on", sa.Date(), nullable=True))
    op.execute("UPDATE event_dyad SET occurred_on = (SELECT event.occurred_on FROM event WHERE event.id = event_dyad.event_id)")
    with op.batch_alter_table("event_dyad", schema=None) as batch_op:
        batch_op.alter_column("occurred_on", existing_type=sa.Date(), nullable=False)
        batch_op.create_index("ix_event_dyad_dyad_id_occurred_on", ["dyad_id", "occurred_on"], unique=False)
        # The new index leads with dyad_id: the old one would only tempt planners away from the ordered scan.
        batch_op.drop_index("ix_event_dyad_dyad_id")


def downgrade() -> None:
    with op.batch_alter_table("event_dyad", schema=None) as batch_op:
        batch_op.create_index("ix_event_dyad_dyad_id", ["dyad_id"], unique=False)
        batch_op.drop_index("ix_event_dyad_dyad_id_occurred_on")
        batch_op.drop_column("occurred_on")
