"""APScheduler wiring. Job bodies are plain functions (``jobs.tasks``); this module only schedules.

Production runs ``icp-console jobs run`` as its own process. ``CONSOLE_SCHEDULER=on`` (and the demo)
run a background scheduler inside the web process instead. Either way, every tick first takes a
database lease, so a second scheduler anywhere is a no-op until the first one stops renewing.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from jobs.tasks import run_sweep_if_leader

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "overdue_sweep"


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def interval_seconds(app: Flask) -> int:
    """The tick: CONSOLE_JOB_INTERVAL_SECONDS (tests, operators) or the supervisors' setting."""
    override = os.environ.get("CONSOLE_JOB_INTERVAL_SECONDS")
    if override:
        return max(1, int(override))
    from console.services.settings import get_setting

    with app.app_context():
        return get_setting("sweep_interval_minutes") * 60


def configure(scheduler: BaseScheduler, app: Flask, holder: str) -> BaseScheduler:
    seconds = interval_seconds(app)
    scheduler.add_job(
        run_sweep_if_leader, "interval", seconds=seconds, args=[app, holder], id=SWEEP_JOB_ID,
        name="overdue sweep", replace_existing=True, coalesce=True, max_instances=1,
        misfire_grace_time=max(30, seconds), next_run_time=None,
    )
    # First run right away (a restarted scheduler should not wait a whole interval).
    scheduler.modify_job(SWEEP_JOB_ID, next_run_time=_now())
    return scheduler


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def start_in_process(app: Flask) -> BackgroundScheduler | None:
    """A background scheduler in this process (demo, CONSOLE_SCHEDULER=on); once per process.

    Under the debug reloader only the serving child starts it, never the watching parent.
    """
    if app.extensions.get("scheduler") is not None:
        return app.extensions["scheduler"]
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    scheduler = configure(BackgroundScheduler(timezone="UTC", daemon=True), app, holder_id())
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    log.info("scheduler started in-process")
    return scheduler


def run_forever(app: Flask) -> None:
    """``icp-console jobs run``: the scheduler as its own long-running process."""
    holder = holder_id()
    scheduler = configure(BlockingScheduler(timezone="UTC"), app, holder)
    log.info("scheduler %s running; the sweep every %ss", holder, interval_seconds(app))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        from console.services import leases
        from jobs.tasks import LEASE_NAME

        with app.app_context():
            leases.release(LEASE_NAME, holder)
