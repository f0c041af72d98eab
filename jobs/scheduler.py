"""APScheduler wiring. Job bodies are plain functions (``jobs.tasks``); this module only schedules.

Production runs ``icp-console jobs run`` as its own process. ``CONSOLE_SCHEDULER=on`` (and the demo)
run a background scheduler inside the web process instead. Either way, every tick first takes a
database lease, so a second scheduler anywhere is a no-op until the first one stops renewing.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import uuid
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from console.services import leases
from console.services.jobruns import SWEEP
from jobs.tasks import (
    LEASE_NAME,
    apply_imports_if_leader,
    deliver_webhooks_if_leader,
    interval_seconds,
    run_sweep_if_leader,
)

log = logging.getLogger(__name__)

SWEEP_JOB_ID = SWEEP  # the job's id is the name its runs are recorded under
IMPORT_JOB_ID = "bureau_imports"
#: How soon a queued import starts (a batch in progress keeps its runner until it is done).
IMPORT_TICK_SECONDS = 2
WEBHOOK_JOB_ID = "webhooks"
#: How soon an event goes out (each tick sends everything due, in batches).
WEBHOOK_TICK_SECONDS = 2


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def configure(scheduler: BaseScheduler, app: Flask, holder: str) -> BaseScheduler:
    seconds = interval_seconds(app)
    scheduler.add_job(
        run_sweep_if_leader, "interval", seconds=seconds, args=[app, holder], id=SWEEP_JOB_ID,
        name="overdue sweep", replace_existing=True, coalesce=True, max_instances=1,
        misfire_grace_time=max(30, seconds), next_run_time=None,
    )
    # First run right away (a restarted scheduler should not wait a whole interval).
    scheduler.modify_job(SWEEP_JOB_ID, next_run_time=_now())
    scheduler.add_job(
        apply_imports_if_leader, "interval", seconds=IMPORT_TICK_SECONDS, args=[app, holder], id=IMPORT_JOB_ID,
        name="bureau imports", replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=30,
    )
    scheduler.add_job(
        deliver_webhooks_if_leader, "interval", seconds=WEBHOOK_TICK_SECONDS, args=[app, holder], id=WEBHOOK_JOB_ID,
        name="webhooks", replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=30,
    )
    return scheduler


def _now() -> datetime:
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

    def stop(signum, _frame) -> None:
        # SIGTERM (systemd, a deploy) and SIGINT end the loop; the lease is released below, so a
        # replacement takes over at its next tick instead of waiting for the lease to expire.
        log.info("scheduler %s: signal %s, stopping", holder, signal.Signals(signum).name)
        scheduler.shutdown(wait=False)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    log.info("scheduler %s running; the sweep every %ss", holder, interval_seconds(app))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with app.app_context():
            leases.release(LEASE_NAME, holder)
        log.info("scheduler %s stopped; lease released", holder)
