"""accounts, flags, verification attempts, audit events

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('card_last4', sa.String(length=4), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('zip_code', sa.String(length=10), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('preferred_language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance_cents', sa.Integer(), nullable=False),
    sa.Column('past_due_cents', sa.Integer(), nullable=False),
    sa.Column('minimum_due_cents', sa.Integer(), nullable=False),
    sa.Column('payment_due_date', sa.Date(), nullable=False),
    sa.Column('delinquent_since', sa.Date(), nullable=True),
    sa.Column('statement_previous_balance_cents', sa.Integer(), nullable=False),
    sa.Column('statement_purchases_cents', sa.Integer(), nullable=False),
    sa.Column('statement_interest_cents', sa.Integer(), nullable=False),
    sa.Column('statement_fees_cents', sa.Integer(), nullable=False),
    sa.Column('statement_payments_cents', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_card_last4'), ['card_last4'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_phone'), ['phone'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('account_id', sa.String(length=16), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_account_id_at', ['account_id', 'at'], unique=False)

    op.create_table('verification_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.String(length=16), nullable=True),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_attempts'))
    )
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_verification_attempts_subject_at', ['subject', 'at'], unique=False)

    op.create_table('account_flags',
    sa.Column('account_id', sa.String(length=16), nullable=False),
    sa.Column('flag', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_flags_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'flag', name=op.f('pk_account_flags'))
    )


def downgrade() -> None:
    op.drop_table('account_flags')
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_attempts_subject_at')

    op.drop_table('verification_attempts')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_account_id_at')

    op.drop_table('audit_events')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_phone'))
        batch_op.drop_index(batch_op.f('ix_accounts_card_last4'))

    op.drop_table('accounts')
