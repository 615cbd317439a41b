"""check-ins: how the person was identified (badge or name search)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=16), server_default='badge', nullable=False))


def downgrade():
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_column('method')
