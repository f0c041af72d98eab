"""Recording job runs, and what /healthz says about the scheduler."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from console.database import write_transaction
from console.domain.calendar import utcnow
from console.extensions import db
from console.models import JobRun
from console.services.settings import get_setting

log = logging.getLogger(__name__)

SWEEP = "overdue_sweep"


@contextmanager
def recorded_run(job: str) -> Iterator[dict]:
    """Record start, end, summary and any error of one run; the error is re-raised."""
    started = utcnow()
    with write_transaction():
        run = JobRun(job=job, started_at=started, ok=None, summary={})
        db.session.add(run)
        db.session.flush()
        run_id = run.id
    summary: dict = {}
    try:
        yield summary
    except Exception as exc:
        db.session.rollback()
        with write_transaction():
            row = db.session.get(JobRun, run_id)
            row.finished_at, row.ok = utcnow(), False
            row.summary = summary
            row.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
        log.exception("job %s failed", job)
        raise
    else:
        with write_transaction():
            row = db.session.get(JobRun, run_id)
            row.finished_at, row.ok, row.summary = utcnow(), True, summary


def last_success(job: str = SWEEP) -> JobRun | None:
    return db.session.scalar(
        select(JobRun).where(JobRun.job == job, JobRun.ok.is_(True)).order_by(JobRun.started_at.desc()).limit(1)
    )


def scheduler_health() -> dict:
    """ok unless the last successful sweep is older than the stale setting (never run: ok, said)."""
    run = last_success()
    if run is None:
        return {"ok": True, "state": "never_run", "last_success": None}
    age = utcnow() - run.finished_at
    stale = age > timedelta(minutes=get_setting("sweep_stale_minutes"))
    return {"ok": not stale, "state": "stale" if stale else "ok", "last_success": run.finished_at.isoformat(),
            "age_seconds": int(age.total_seconds())}


def recent_runs(limit: int = 10) -> list[JobRun]:
    """The latest job runs, newest first (shown to supervisors)."""
    return list(db.session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(limit)))


def database_reachable() -> bool:
    """Whether a trivial statement runs (liveness)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True
