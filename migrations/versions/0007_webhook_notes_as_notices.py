"""webhook verification notes as notices (a code and parameters, worded when read)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

PREFIX = 'verified (kid '

events = sa.table('webhook_events', sa.column('id', sa.Integer), sa.column('verification', sa.Text))


def upgrade():
    # A notice is JSON and may outgrow the 200 characters of the old English note.
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.alter_column('verification', existing_type=sa.String(length=200), type_=sa.Text(),
                              existing_nullable=False)
    connection = op.get_bind()
    for row_id, note in connection.execute(sa.select(events.c.id, events.c.verification)).all():
        if note.startswith(PREFIX) and note.endswith(')'):
            notice = {'code': 'webhook.verified', 'params': {'kid': note[len(PREFIX):-1]}}
        elif note == 'verified':
            notice = {'code': 'webhook.verified_no_kid', 'params': {}}
        else:
            continue  # read as verbatim text
        connection.execute(
            events.update().where(events.c.id == row_id).values(verification=json.dumps(notice))
        )


def downgrade():
    connection = op.get_bind()
    for row_id, note in connection.execute(sa.select(events.c.id, events.c.verification)).all():
        try:
            data = json.loads(note)
        except ValueError:
            continue
        kid = (data.get('params') or {}).get('kid') if isinstance(data, dict) else None
        text = f'{PREFIX}{kid})' if kid else 'verified'
        connection.execute(events.update().where(events.c.id == row_id).values(verification=text[:200]))
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.alter_column('verification', existing_type=sa.Text(), type_=sa.String(length=200),
                              existing_nullable=False)
