"""assessment changed_event_ids: the events each assessment's transaction changed in its dyad's history; an
index on (dyad_id, id) to read a dyad's assessments after a given one

Revision ID: assessment_changed_events
Revises: webhooks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "assessment_changed_events"
down_revision: str | None = "webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_event_ids", sa.JSON(), nullable=True))
        batch_op.create_index("ix_assessment_dyad_id_id", ["dyad_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_dyad_id_id")
        batch_op.drop_column("changed_event_ids")
