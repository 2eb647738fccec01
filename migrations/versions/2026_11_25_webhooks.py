"""webhooks: endpoints, the delivery outbox and delivery attempts

Revision ID: webhooks
Revises: 0002
Create Date: 2026-11-25 15:11:55.724675
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'webhooks'
down_revision: str | None = "event_dyad_occurred_on"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_endpoint',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint'))
    )
    op.create_table('webhook_delivery',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.String(length=40), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('assessment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_webhook_delivery_assessment_id_assessment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], name=op.f('fk_webhook_delivery_endpoint_id_webhook_endpoint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('message_id', name=op.f('uq_webhook_delivery_message_id'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_delivery_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index('ix_webhook_delivery_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('webhook_attempt',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_delivery.id'], name=op.f('fk_webhook_attempt_delivery_id_webhook_delivery'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempt')),
    sa.UniqueConstraint('delivery_id', 'number', name=op.f('uq_webhook_attempt_delivery_id_number'))
    )


def downgrade() -> None:
    op.drop_table('webhook_attempt')
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_endpoint_id'))

    op.drop_table('webhook_delivery')
    op.drop_table('webhook_endpoint')
