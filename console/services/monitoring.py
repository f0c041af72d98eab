"""What operators watch (/metrics, /readyz): the state of the work, in a few small queries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from console.domain.calendar import utcnow
from console.domain.workflow import QUEUE_STATES
from console.extensions import db
from console.models import BureauImport, Lease, Order
from console.services import totals, workcounts
from console.services.jobruns import last_success, scheduler_health
from console.services.queues import overdue_by_queue


def snapshot(now: datetime | None = None) -> dict:
    """Queue depth per queue and state, unclaimed, overdue, the oldest unclaimed order's age, the
    last sweep, the lease, import rows applied and alert mails. Depths come from the trigger-kept
    counters (constant in the number of orders); overdue is an index range of the overdue orders,
    the oldest unclaimed one index probe per queue."""
    now = now or utcnow()
    per_queue = {q: {"unclaimed": 0, "overdue": 0, "oldest_unclaimed_age": 0.0} for q in QUEUE_STATES}
    by_state: dict[tuple[str, str], int] = {}
    for queue, state, assignee, n in workcounts.open_counts():
        by_state[(queue, state)] = by_state.get((queue, state), 0) + n
        if assignee is None:
            per_queue.setdefault(queue, {"unclaimed": 0, "overdue": 0, "oldest_unclaimed_age": 0.0})["unclaimed"] += n
    queues = [{"queue": queue, "state": state, "orders": n} for (queue, state), n in sorted(by_state.items())]
    for queue, overdue in overdue_by_queue(now):
        per_queue[queue]["overdue"] = overdue
    # the oldest unclaimed order of each queue: one probe of ix_orders_unclaimed_age per queue
    oldest = db.session.execute(select(*(
        select(func.min(Order.stage_entered_at)).where(Order.queue == queue, Order.assignee_id.is_(None))
        .scalar_subquery() for queue in QUEUE_STATES))).one()
    for queue, at in zip(QUEUE_STATES, oldest, strict=True):
        if at is not None:
            per_queue[queue]["oldest_unclaimed_age"] = max(0.0, (now - at).total_seconds())
    run = last_success()
    lease = db.session.get(Lease, "scheduler")
    counted = totals.all_totals()
    return {
        "queues": queues, "per_queue": per_queue,
        "sweep": {"last_success": run.finished_at.timestamp() if run else 0.0,
                  "duration": (run.finished_at - run.started_at).total_seconds() if run else 0.0},
        "lease": {"holder": lease.holder if lease and lease.expires_at > now else "",
                  "expires": lease.expires_at.timestamp() if lease else 0.0},
        "import_rows_applied": db.session.scalar(select(func.coalesce(func.sum(BureauImport.applied), 0))) or 0,
        "mails": {"sent": counted.get(totals.MAILS_SENT, 0), "failed": counted.get(totals.MAILS_FAILED, 0)},
    }


def schema_heads(migrations_directory: str) -> set[str]:
    """The newest revision(s) the code's migrations define (empty when they are not installed)."""
    if not Path(migrations_directory, "env.py").exists():
        return set()
    config = AlembicConfig()
    config.set_main_option("script_location", migrations_directory)
    return set(ScriptDirectory.from_config(config).get_heads())


def readiness(expected_heads: set[str]) -> dict:
    """Database reachable, schema at the newest migration, sweep fresh: each with ok and detail."""
    checks: dict[str, dict] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except SQLAlchemyError as exc:
        db.session.rollback()
        checks["database"] = {"ok": False, "detail": type(exc).__name__}
        checks["schema"] = {"ok": False, "detail": "database unreachable"}
        checks["sweep"] = {"ok": False, "detail": "database unreachable"}
        return checks
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        db.session.rollback()
        current = set()
    checks["schema"] = {"ok": bool(expected_heads) and current == expected_heads, "current": sorted(current),
                        "expected": sorted(expected_heads)}
    if not expected_heads:
        checks["schema"]["detail"] = "the migrations folder is not installed beside the code"
    elif not checks["schema"]["ok"]:
        checks["schema"]["detail"] = "run `icp-console db upgrade`"
    sweep = scheduler_health()
    checks["sweep"] = {"ok": sweep["ok"], "state": sweep["state"], "last_success": sweep["last_success"]}
    return checks
