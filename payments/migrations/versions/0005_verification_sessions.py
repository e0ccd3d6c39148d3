"""verification sessions, lock-out counters, cancelled PaymentIntents of expired links, console
lock-out off the agent row (issue 11)

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
    # Console lock-out moved from the agent (anyone could lock every agent out) to the client address.
    with op.batch_alter_table('agents') as batch:
        batch.drop_column('failed_sign_ins')
        batch.drop_column('locked_until')


def downgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('stripe_intent_canceled_at')
    with op.batch_alter_table('verification_attempts') as batch:
        batch.drop_column('conversation_id')
    op.drop_index(op.f('ix_verification_sessions_conversation_id'), table_name='verification_sessions')
    op.drop_index(op.f('ix_verification_sessions_account_id'), table_name='verification_sessions')
    op.drop_table('verification_sessions')
