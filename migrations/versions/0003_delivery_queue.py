"""delivery queue: leases, next attempts and the 24-hour window of each deposit

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deposit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('claim_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answer_pending', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('maybe_delivered', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_deposits_queue', ['status', 'next_attempt_at'], unique=False)

    # Deposits already waiting keep their place: their window starts when they were made.
    op.execute(
        "UPDATE deposits SET queued_at = created_at, next_attempt_at = created_at, "
        "maybe_delivered = attempts > 0 WHERE status = 'queued'"
    )


def downgrade():
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_index('ix_deposits_queue')
        batch_op.drop_column('maybe_delivered')
        batch_op.drop_column('answer_pending')
        batch_op.drop_column('claim_expires_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('queued_at')

    with op.batch_alter_table('deposit_events', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
