"""speed at scale: indexes and search for the staff review and the history

Each organization's rows in every order the review offers, every visible row in those orders
(a staff member seeing most organizations), and a folded search text (portal.models.search)
that both databases compare alike; on PostgreSQL a trigram index answers its substring search.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

"""
import json
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD_SEARCH_INDEX = 'ix_deposits_search_trgm'
OLD_SEARCH_EXPRESSION = (
    "lower(file_name || ' ' || external_reference || ' ' || coalesce(document_id, '') "
    "|| ' ' || coalesce(counterparty_name, ''))"
)
SEARCH_INDEX = 'ix_deposits_search_text_trgm'
INDEXES = {
    'ix_deposits_org_file_name': ['organization_id', 'file_name', 'id'],
    'ix_deposits_org_reference': ['organization_id', 'external_reference', 'id'],
    'ix_deposits_created': ['created_at', 'id'],
    'ix_deposits_file_name': ['file_name', 'id'],
    'ix_deposits_reference': ['external_reference', 'id'],
}
BATCH = 2000

deposits = sa.table(
    'deposits',
    sa.column('id', sa.Integer),
    sa.column('file_name', sa.String),
    sa.column('external_reference', sa.String),
    sa.column('document_id', sa.String),
    sa.column('counterparty', sa.JSON),
    sa.column('counterparty_name', sa.String),
    sa.column('search_text', sa.Text),
)


def upgrade():
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    connection = op.get_bind()
    _fill_search_text(connection)
    if connection.dialect.name == 'postgresql':
        op.execute(f'DROP INDEX IF EXISTS {OLD_SEARCH_INDEX}')
        if _has_trigrams(connection):
            op.execute(
                f'CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON deposits '
                'USING gin (search_text gin_trgm_ops)'
            )


# A copy of portal.models.search as it is today: a migration keeps meaning what it meant.
LIGATURES = str.maketrans({'œ': 'oe', 'æ': 'ae'})


def _fold(text):
    decomposed = unicodedata.normalize('NFKD', text.casefold().translate(LIGATURES))
    return ''.join(c for c in decomposed if not unicodedata.combining(c))


def _fill_search_text(connection):
    last = 0
    while True:
        rows = connection.execute(
            sa.select(
                deposits.c.id,
                deposits.c.file_name,
                deposits.c.external_reference,
                deposits.c.document_id,
                deposits.c.counterparty_name,
                deposits.c.counterparty,
            )
            .where(deposits.c.id > last)
            .order_by(deposits.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        connection.execute(
            deposits.update()
            .where(deposits.c.id == sa.bindparam('row_id'))
            .values(
                search_text=sa.bindparam('text'), counterparty_name=sa.bindparam('name')
            ),
            [_summary(row) for row in rows],
        )


def _summary(row):
    row_id, file_name, reference, document_id, name, counterparty = row
    if isinstance(counterparty, str):
        counterparty = json.loads(counterparty)
    name = name or (counterparty or {}).get('name') or None
    parts = (file_name, reference, document_id, name)
    return {'row_id': row_id, 'name': name, 'text': ' '.join(_fold(p) for p in parts if p)}


def _has_trigrams(connection):
    """pg_trgm, created by 0009 when it could be; a role that may not create extensions keeps
    the migration going, without the index (the search then reads each organization's rows)."""
    if connection.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    try:
        with connection.begin_nested():
            connection.execute(sa.text('CREATE EXTENSION IF NOT EXISTS pg_trgm'))
    except sa.exc.DBAPIError:
        return False
    return True


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        op.execute(f'DROP INDEX IF EXISTS {SEARCH_INDEX}')
        if _has_trigrams(connection):
            op.execute(
                f'CREATE INDEX IF NOT EXISTS {OLD_SEARCH_INDEX} ON deposits '
                f'USING gin (({OLD_SEARCH_EXPRESSION}) gin_trgm_ops)'
            )
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        for name in reversed(INDEXES):
            batch_op.drop_index(name)
        batch_op.drop_column('search_text')
