"""deposits: counterparty name, debit total, invoice date, correction link; history search index

The history shows and searches these without decoding JSON; on PostgreSQL a trigram index keeps
its substring search indexed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

"""
import json
from datetime import date
from decimal import Decimal

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SEARCH_INDEX = 'ix_deposits_search_trgm'
# The same expression as portal.deposits.history.search_text().
SEARCH_EXPRESSION = (
    "lower(file_name || ' ' || external_reference || ' ' || coalesce(document_id, '') "
    "|| ' ' || coalesce(counterparty_name, ''))"
)

deposits = sa.table(
    'deposits',
    sa.column('id', sa.Integer),
    sa.column('counterparty', sa.JSON),
    sa.column('entries', sa.JSON),
    sa.column('counterparty_name', sa.String),
    sa.column('total_debit', sa.Numeric(18, 2)),
    sa.column('invoice_date', sa.Date),
)


def upgrade():
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counterparty_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('total_debit', sa.Numeric(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('invoice_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('correction_of_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_deposits_correction_of_id'), ['correction_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_deposits_correction_of_id_deposits'), 'deposits', ['correction_of_id'], ['id'], ondelete='SET NULL')
    _fill_summaries(op.get_bind())
    _create_search_index(op.get_bind())


BATCH = 500


def _fill_summaries(connection):
    """Existing deposits get what new ones get when they are made, a batch at a time (entries
    can be megabytes each)."""
    last = 0
    while True:
        rows = connection.execute(
            sa.select(deposits.c.id, deposits.c.counterparty, deposits.c.entries)
            .where(deposits.c.id > last)
            .order_by(deposits.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        _fill_batch(connection, rows)


def _fill_batch(connection, rows):
    for row_id, counterparty, entries in rows:
        counterparty = _loaded(counterparty) or {}
        lines = (_loaded(entries) or {}).get('data', {}).get('lines', [])
        dates = sorted(line['date'][:10] for line in lines if isinstance(line.get('date'), str))
        connection.execute(
            deposits.update()
            .where(deposits.c.id == row_id)
            .values(
                counterparty_name=(counterparty.get('name') or None),
                total_debit=(
                    sum((_debit(line) for line in lines), Decimal('0.00'))
                    if lines
                    else None
                ),
                invoice_date=date.fromisoformat(dates[0]) if dates else None,
            )
        )


def _debit(line):
    """A line's euro debit as sent (`{"debit": {"amount": 12.5}}`), exactly."""
    amount = (line.get('debit') or {}).get('amount') or 0
    return Decimal(repr(amount)).quantize(Decimal('0.01'))


def _loaded(value):
    return json.loads(value) if isinstance(value, str) else value


def _create_search_index(connection):
    """Substring search stays indexed on PostgreSQL when pg_trgm can be had; elsewhere the
    history searches one organization's rows, which its own index narrows."""
    if connection.dialect.name != 'postgresql':
        return
    available = connection.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    if available is None:
        return
    # A role that may not create extensions keeps the migration going, without the index.
    try:
        with connection.begin_nested():
            connection.execute(sa.text('CREATE EXTENSION IF NOT EXISTS pg_trgm'))
    except sa.exc.DBAPIError:
        return
    op.execute(
        f'CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON deposits '
        f'USING gin (({SEARCH_EXPRESSION}) gin_trgm_ops)'
    )


def downgrade():
    op.execute(f'DROP INDEX IF EXISTS {SEARCH_INDEX}')
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_deposits_correction_of_id_deposits'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_deposits_correction_of_id'))
        batch_op.drop_column('correction_of_id')
        batch_op.drop_column('invoice_date')
        batch_op.drop_column('total_debit')
        batch_op.drop_column('counterparty_name')
