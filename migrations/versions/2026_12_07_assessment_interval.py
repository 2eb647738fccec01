"""assessment interval: the uncertainty interval of the primary probability, {low, high, level}

Revision ID: assessment_interval
Revises: assessment_changed_events
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "assessment_interval"
down_revision: str | None = "assessment_changed_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interval", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_column("interval")
