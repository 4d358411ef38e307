"""the sender: each attempt's step records the worker or request (host and process) that made it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deposit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('made_by', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('deposit_events', schema=None) as batch_op:
        batch_op.drop_column('made_by')
