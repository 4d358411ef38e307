"""wider upstream identifiers: event and document ids of any reasonable length

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# OneConnect's documents are UUIDs today, but nothing promises it: a longer id sent by the
# upstream must be stored, not fail on PostgreSQL (SQLite never enforced these lengths).
WIDENED = {
    'webhook_events': ('event_id', 'type', 'integration_id', 'document_id'),
    'deposits': ('document_id', 'status_event_id'),
}
OLD_LENGTHS = {'event_id': 128, 'type': 100, 'integration_id': 64, 'document_id': 64, 'status_event_id': 64}


def upgrade():
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=sa.String(length=255), existing_type=sa.String(length=OLD_LENGTHS[column]))


def downgrade():
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=sa.String(length=OLD_LENGTHS[column]), existing_type=sa.String(length=255))
