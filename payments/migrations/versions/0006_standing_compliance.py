"""standing: pending flags, revocations, inconvenient times, call ledger (issue 12)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_reports',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('report_id', sa.String(length=16), nullable=False),
        sa.Column('account_id', sa.String(length=16), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reported_by', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('conversation_id', sa.String(length=128), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reviewed_by', sa.String(length=64), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_reports_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_reports')),
    )
    op.create_index(op.f('ix_account_reports_report_id'), 'account_reports', ['report_id'], unique=False)
    op.create_index(op.f('ix_account_reports_account_id'), 'account_reports', ['account_id'], unique=False)
    op.create_index(op.f('ix_account_reports_conversation_id'), 'account_reports', ['conversation_id'], unique=False)
    op.create_table(
        'contact_windows',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('account_id', sa.String(length=16), nullable=False),
        sa.Column('not_before', sa.String(length=5), nullable=True),
        sa.Column('not_after', sa.String(length=5), nullable=True),
        sa.Column('places', sa.JSON(), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('conversation_id', sa.String(length=128), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_contact_windows_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_windows')),
    )
    op.create_index(op.f('ix_contact_windows_account_id'), 'contact_windows', ['account_id'], unique=False)
    with op.batch_alter_table('contact_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation_id', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contact_events', schema=None) as batch_op:
        batch_op.drop_column('conversation_id')
    op.drop_index(op.f('ix_contact_windows_account_id'), table_name='contact_windows')
    op.drop_table('contact_windows')
    op.drop_index(op.f('ix_account_reports_conversation_id'), table_name='account_reports')
    op.drop_index(op.f('ix_account_reports_account_id'), table_name='account_reports')
    op.drop_index(op.f('ix_account_reports_report_id'), table_name='account_reports')
    op.drop_table('account_reports')
