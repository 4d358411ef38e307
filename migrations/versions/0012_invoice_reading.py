"""invoice reading: what a draft's invoice says (Factur-X, text, OCR) and what the deposit kept of it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reading_state', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('reading_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reading', sa.JSON(), nullable=True))
        batch_op.create_index('ix_drafts_reading_state', ['reading_state'], unique=False)
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reading', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_column('reading')
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_drafts_reading_state')
        batch_op.drop_column('reading')
        batch_op.drop_column('reading_started_at')
        batch_op.drop_column('reading_state')
