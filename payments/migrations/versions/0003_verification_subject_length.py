"""verification_attempts.subject holds "conversation:" and a 128-character conversation id

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL refused a conversation id over 115 characters (a 500 from POST /api/verify).
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.alter_column('subject', existing_type=sa.String(length=128), type_=sa.String(length=141),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.alter_column('subject', existing_type=sa.String(length=141), type_=sa.String(length=128),
                              existing_nullable=False)
