"""verification sessions, lock-out counters, cancelled PaymentIntents of expired links (issue 11)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'verification_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('conversation_id', sa.String(length=128), nullable=False),
        sa.Column('account_id', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_verification_sessions_account_id_accounts')),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_verification_sessions')),
    )
    op.create_index(op.f('ix_verification_sessions_account_id'), 'verification_sessions', ['account_id'])
    op.create_index(op.f('ix_verification_sessions_conversation_id'), 'verification_sessions', ['conversation_id'])
    with op.batch_alter_table('verification_attempts') as batch:
        batch.add_column(sa.Column('conversation_id', sa.String(length=128), nullable=True))
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('stripe_intent_canceled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('stripe_intent_canceled_at')
    with op.batch_alter_table('verification_attempts') as batch:
        batch.drop_column('conversation_id')
    op.drop_index(op.f('ix_verification_sessions_conversation_id'), table_name='verification_sessions')
    op.drop_index(op.f('ix_verification_sessions_account_id'), table_name='verification_sessions')
    op.drop_table('verification_sessions')
