"""Open orders per (queue, state, assignee) from the trigger-kept deltas (models.WorkCountDelta).

Why deltas and not a counter row per key: a counter row is a hot row — every claim in a queue
would update the same "unassigned" row and wait for the transaction before it to commit, and two
bulk moves in opposite directions could lock two counter rows in opposite orders (a deadlock).
Inserting ±1 rows takes no lock anyone else waits for; the price is a sum at read time over the
keys (a few dozen) and the changes since the last compaction (the sweep compacts every minute).
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, text

from console.database import is_postgres
from console.extensions import db
from console.models import Order, WorkCountDelta


def open_counts() -> list[tuple[str, str, int | None, int]]:
    """(queue, state, assignee or None, open orders) for every key with orders."""
    rows = db.session.execute(
        select(WorkCountDelta.queue, WorkCountDelta.state, WorkCountDelta.assignee_id, func.sum(WorkCountDelta.delta))
        .group_by(WorkCountDelta.queue, WorkCountDelta.state, WorkCountDelta.assignee_id)).all()
    return [(queue, state, assignee or None, int(n)) for queue, state, assignee, n in rows if n]


def compact() -> int:
    """Fold the deltas to one row per key (call inside a write transaction); rows removed.

    On PostgreSQL one statement deletes the rows its snapshot sees and inserts their sums: rows
    that concurrent writers insert meanwhile are neither deleted nor summed, so no change is lost
    or counted twice, even when two sweeps compact at once. SQLite serialises writers, so the
    same is three statements in the write transaction."""
    if is_postgres():
        before = db.session.scalar(select(func.count()).select_from(WorkCountDelta))
        db.session.execute(text(
            "WITH gone AS (DELETE FROM work_count_deltas RETURNING queue, state, assignee_id, delta) "
            "INSERT INTO work_count_deltas (queue, state, assignee_id, delta) "
            "SELECT queue, state, assignee_id, sum(delta) FROM gone GROUP BY queue, state, assignee_id "
            "HAVING sum(delta) <> 0"))
        after = db.session.scalar(select(func.count()).select_from(WorkCountDelta))
        return max(0, (before or 0) - (after or 0))
    sums = db.session.execute(
        select(WorkCountDelta.queue, WorkCountDelta.state, WorkCountDelta.assignee_id, func.sum(WorkCountDelta.delta))
        .group_by(WorkCountDelta.queue, WorkCountDelta.state, WorkCountDelta.assignee_id)).all()
    removed = db.session.execute(delete(WorkCountDelta)).rowcount
    kept = [{"queue": q, "state": s, "assignee_id": a, "delta": int(n)} for q, s, a, n in sums if n]
    if kept:
        db.session.execute(insert(WorkCountDelta), kept)
    return max(0, removed - len(kept))


def recount() -> list[tuple[str, str, int | None, int]]:
    """The same figures counted from the orders themselves (tests and the consistency check)."""
    rows = db.session.execute(
        select(Order.queue, Order.state, Order.assignee_id, func.count())
        .where(Order.queue.is_not(None)).group_by(Order.queue, Order.state, Order.assignee_id)).all()
    return [(queue, state, assignee, int(n)) for queue, state, assignee, n in rows]
