"""money: settlement close, suspended plans, consent records (issue 12)

Plans gain the consent's time and source, the receipt token's hash, and suspension facts; the
one-plan-per-account index also covers suspended plans; installments gain the grace period's end;
payments the customer's answer to "save this card for your plan?".

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ONE_PLAN = 'uq_plans_one_active_per_account'
OLD_WHERE = "status = 'active'"
NEW_WHERE = "status IN ('active', 'suspended')"


def _one_plan_index(where: str) -> None:
    op.create_index(ONE_PLAN, 'plans', ['account_id'], unique=True,
                    sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    op.drop_index(ONE_PLAN, table_name='plans')
    with op.batch_alter_table('plans') as batch:
        batch.add_column(sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('consent_source', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('receipt_token_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('suspended_reason', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('resumed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_plans_receipt_token_hash'), 'plans', ['receipt_token_hash'], unique=True)
    _one_plan_index(NEW_WHERE)
    with op.batch_alter_table('installments') as batch:
        batch.add_column(sa.Column('grace_until', sa.Date(), nullable=True))
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('save_card', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('save_card')
    with op.batch_alter_table('installments') as batch:
        batch.drop_column('grace_until')
    op.drop_index(ONE_PLAN, table_name='plans')
    op.drop_index(op.f('ix_plans_receipt_token_hash'), table_name='plans')
    with op.batch_alter_table('plans') as batch:
        for column in ('resumed_at', 'suspended_at', 'suspended_reason', 'receipt_token_hash', 'consent_source',
                       'consent_at'):
            batch.drop_column(column)
    _one_plan_index(OLD_WHERE)
