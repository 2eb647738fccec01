"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 23:30:28.656906
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix'))
    )
    op.create_table('dyad',
    sa.Column('id', sa.String(length=210), nullable=False),
    sa.Column('member_a', sa.String(length=100), nullable=False),
    sa.Column('member_b', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dyad'))
    )
    with op.batch_alter_table('dyad', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dyad_member_a'), ['member_a'], unique=False)
        batch_op.create_index(batch_op.f('ix_dyad_member_b'), ['member_b'], unique=False)

    op.create_table('event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_event_id', sa.String(length=128), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('actor1_name', sa.String(length=200), nullable=False),
    sa.Column('actor1_kind', sa.String(length=16), nullable=False),
    sa.Column('actor1_country', sa.String(length=3), nullable=True),
    sa.Column('actor1_member', sa.String(length=100), nullable=False),
    sa.Column('actor2_name', sa.String(length=200), nullable=True),
    sa.Column('actor2_kind', sa.String(length=16), nullable=True),
    sa.Column('actor2_country', sa.String(length=3), nullable=True),
    sa.Column('actor2_member', sa.String(length=100), nullable=True),
    sa.Column('location_country', sa.String(length=3), nullable=False),
    sa.Column('location_admin1', sa.String(length=200), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('hostility', sa.SmallInteger(), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=True),
    sa.Column('sub_event_type', sa.String(length=64), nullable=True),
    sa.Column('cameo_code', sa.String(length=4), nullable=True),
    sa.Column('fatalities', sa.Integer(), nullable=True),
    sa.Column('civilian_fatalities', sa.Integer(), nullable=True),
    sa.Column('injured', sa.Integer(), nullable=True),
    sa.Column('weapons', sa.JSON(), nullable=False),
    sa.Column('retaliation', sa.Boolean(), nullable=False),
    sa.Column('responds_to_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retracted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['responds_to_id'], ['event.id'], name=op.f('fk_event_responds_to_id_event'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event')),
    sa.UniqueConstraint('source', 'source_event_id', name=op.f('uq_event_source_source_event_id'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_actor1_country'), ['actor1_country'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_actor2_country'), ['actor2_country'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_location_country'), ['location_country'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_occurred_on'), ['occurred_on'], unique=False)

    op.create_table('assessment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dyad_id', sa.String(length=210), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('probabilities', sa.JSON(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('drivers', sa.JSON(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('trigger_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('last_event_on', sa.Date(), nullable=True),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dyad_id'], ['dyad.id'], name=op.f('fk_assessment_dyad_id_dyad')),
    sa.ForeignKeyConstraint(['trigger_event_id'], ['event.id'], name=op.f('fk_assessment_trigger_event_id_event'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment'))
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_dyad_id_as_of', ['dyad_id', 'as_of'], unique=False)

    op.create_table('event_dyad',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dyad_id', sa.String(length=210), nullable=False),
    sa.Column('initiator', sa.String(length=100), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=True),
    sa.Column('territorial', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['dyad_id'], ['dyad.id'], name=op.f('fk_event_dyad_dyad_id_dyad')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_dyad_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'dyad_id', name=op.f('pk_event_dyad'))
    )
    with op.batch_alter_table('event_dyad', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_dyad_dyad_id'), ['dyad_id'], unique=False)

    op.create_table('event_revision',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_revision_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_revision')),
    sa.UniqueConstraint('event_id', 'revision', name=op.f('uq_event_revision_event_id_revision'))
    )
    op.create_table('dyad_risk',
    sa.Column('dyad_id', sa.String(length=210), nullable=False),
    sa.Column('assessment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('last_event_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_dyad_risk_assessment_id_assessment')),
    sa.ForeignKeyConstraint(['dyad_id'], ['dyad.id'], name=op.f('fk_dyad_risk_dyad_id_dyad')),
    sa.PrimaryKeyConstraint('dyad_id', name=op.f('pk_dyad_risk'))
    )
    with op.batch_alter_table('dyad_risk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dyad_risk_probability'), ['probability'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dyad_risk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dyad_risk_probability'))

    op.drop_table('dyad_risk')
    op.drop_table('event_revision')
    with op.batch_alter_table('event_dyad', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_dyad_dyad_id'))

    op.drop_table('event_dyad')
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_dyad_id_as_of')

    op.drop_table('assessment')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_occurred_on'))
        batch_op.drop_index(batch_op.f('ix_event_location_country'))
        batch_op.drop_index(batch_op.f('ix_event_actor2_country'))
        batch_op.drop_index(batch_op.f('ix_event_actor1_country'))

    op.drop_table('event')
    with op.batch_alter_table('dyad', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dyad_member_b'))
        batch_op.drop_index(batch_op.f('ix_dyad_member_a'))

    op.drop_table('dyad')
    op.drop_table('api_key')
