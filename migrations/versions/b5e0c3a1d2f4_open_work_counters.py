"""open-work counters: work_count_deltas kept by triggers on orders; unclaimed-age index

Revision ID: b5e0c3a1d2f4
Revises: 7792d73c5237
Create Date: 2026-11-29 11:40:00

The triggers add a -1 row for an order's old (queue, state, assignee) and a +1 row for its new
one whenever any of the three changes, in the writing transaction (console/models.py,
WorkCountDelta). SQLite's batch mode recreates ``orders`` and drops its triggers: a later
migration that alters ``orders`` in batch mode must call ``create_triggers`` again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5e0c3a1d2f4'
down_revision = '7792d73c5237'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER tr_orders_work_insert AFTER INSERT ON orders WHEN NEW.queue IS NOT NULL
       BEGIN
         INSERT INTO work_count_deltas (queue, state, assignee_id, delta)
         VALUES (NEW.queue, NEW.state, COALESCE(NEW.assignee_id, 0), 1);
       END""",
    """CREATE TRIGGER tr_orders_work_update AFTER UPDATE OF queue, state, assignee_id ON orders
       WHEN OLD.queue IS NOT NEW.queue OR OLD.state IS NOT NEW.state OR OLD.assignee_id IS NOT NEW.assignee_id
       BEGIN
         INSERT INTO work_count_deltas (queue, state, assignee_id, delta)
         SELECT OLD.queue, OLD.state, COALESCE(OLD.assignee_id, 0), -1 WHERE OLD.queue IS NOT NULL;
         INSERT INTO work_count_deltas (queue, state, assignee_id, delta)
         SELECT NEW.queue, NEW.state, COALESCE(NEW.assignee_id, 0), 1 WHERE NEW.queue IS NOT NULL;
       END""",
    """CREATE TRIGGER tr_orders_work_delete AFTER DELETE ON orders WHEN OLD.queue IS NOT NULL
       BEGIN
         INSERT INTO work_count_deltas (queue, state, assignee_id, delta)
         VALUES (OLD.queue, OLD.state, COALESCE(OLD.assignee_id, 0), -1);
       END""",
]

POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION orders_work_counts() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.queue IS NOT NULL THEN
           INSERT INTO work_count_deltas (queue, state, assignee_id, delta)
           VALUES (OLD.queue, OLD.state, COALESCE(OLD.assignee_id, 0), -1);
         END IF;
         IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.queue IS NOT NULL THEN
           INSERT INTO work_count_deltas (queue, state, assignee_id, delta)
           VALUES (NEW.queue, NEW.state, COALESCE(NEW.assignee_id, 0), 1);
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER tr_orders_work_insert AFTER INSERT ON orders FOR EACH ROW
       WHEN (NEW.queue IS NOT NULL) EXECUTE FUNCTION orders_work_counts()""",
    """CREATE TRIGGER tr_orders_work_update AFTER UPDATE OF queue, state, assignee_id ON orders FOR EACH ROW
       WHEN (OLD.queue IS DISTINCT FROM NEW.queue OR OLD.state IS DISTINCT FROM NEW.state
             OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id)
       EXECUTE FUNCTION orders_work_counts()""",
    """CREATE TRIGGER tr_orders_work_delete AFTER DELETE ON orders FOR EACH ROW
       WHEN (OLD.queue IS NOT NULL) EXECUTE FUNCTION orders_work_counts()""",
]


def create_triggers():
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def drop_triggers():
    for name in ("tr_orders_work_insert", "tr_orders_work_update", "tr_orders_work_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON orders" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS orders_work_counts()")


def upgrade():
    op.create_table('work_count_deltas',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('queue', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_count_deltas'))
    )
    # The counts as they stand, then the triggers keep them (a migration runs with writers stopped).
    op.execute("""INSERT INTO work_count_deltas (queue, state, assignee_id, delta)
                  SELECT queue, state, COALESCE(assignee_id, 0), count(*) FROM orders
                  WHERE queue IS NOT NULL GROUP BY queue, state, COALESCE(assignee_id, 0)""")
    create_triggers()
    op.create_index('ix_orders_unclaimed_age', 'orders', ['queue', 'stage_entered_at'], unique=False,
                    postgresql_where=sa.text('queue IS NOT NULL AND assignee_id IS NULL'),
                    sqlite_where=sa.text('queue IS NOT NULL AND assignee_id IS NULL'))


def downgrade():
    op.drop_index('ix_orders_unclaimed_age', table_name='orders',
                  postgresql_where=sa.text('queue IS NOT NULL AND assignee_id IS NULL'),
                  sqlite_where=sa.text('queue IS NOT NULL AND assignee_id IS NULL'))
    drop_triggers()
    op.drop_table('work_count_deltas')
