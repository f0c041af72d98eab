"""the supervisors' board: partial indexes of open orders for overdue, due soon and the oldest;
the open-work covering index goes (the counters replaced it)

Revision ID: d4e5f6a7b8c9
Revises: c8d1f2e3a4b5
Create Date: 2026-11-29 12:15:00

Plain create_index, not batch mode (batch mode on SQLite would recreate orders and drop the
open-work triggers of b5e0c3a1d2f4).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e5f6a7b8c9'
down_revision = 'c8d1f2e3a4b5'
branch_labels = None
depends_on = None

OPEN = sa.text('queue IS NOT NULL')
INDEXES = {
    'ix_orders_open_due': ['due_at', 'assignee_id'],
    'ix_orders_open_soon': ['due_soon_at', 'due_at', 'assignee_id'],
    'ix_orders_open_age': ['state', 'assignee_id', 'stage_entered_at'],
}


#: Read by nothing since the counts come from the open-work counters (b5e0c3a1d2f4).
OPEN_WORK = ['queue', 'state', 'assignee_id', 'due_at', 'due_soon_at', 'stage_entered_at']


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, 'orders', columns, unique=False, postgresql_where=OPEN, sqlite_where=OPEN)
    op.drop_index('ix_orders_open_work', table_name='orders', postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade():
    op.create_index('ix_orders_open_work', 'orders', OPEN_WORK, unique=False, postgresql_where=OPEN, sqlite_where=OPEN)
    for name in INDEXES:
        op.drop_index(name, table_name='orders', postgresql_where=OPEN, sqlite_where=OPEN)
