"""Job bodies: plain functions with their own app context, callable from the CLI with --now."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from flask import Flask

from console.database import write_transaction
from console.services import alerts, imports, leases, stats, webhooks, workcounts
from console.services.jobruns import SWEEP, recorded_run
from console.services.settings import get_setting

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"


def lease_ttl(interval: int) -> timedelta:
    """Long enough to survive one slow tick, short enough for a quick takeover."""
    override = os.environ.get("CONSOLE_LEASE_SECONDS")
    return timedelta(seconds=int(override) if override else max(90, interval * 3))


def sweep_once(now: datetime | None = None, *, holder: str = "cli") -> dict:
    """One recorded sweep (inside an app context)."""
    with recorded_run(SWEEP) as summary:
        summary["holder"] = holder
        summary.update(alerts.sweep(now=now))
        stats.refresh_snapshot(now=now)  # the board's 30-day statistics, read in one row
        with write_transaction():  # the open-work counters back to one row per key
            summary["work_counts_compacted"] = workcounts.compact()
    return summary


def interval_seconds(app: Flask) -> int:
    """The tick: CONSOLE_JOB_INTERVAL_SECONDS (tests, operators) or the supervisors' setting."""
    override = os.environ.get("CONSOLE_JOB_INTERVAL_SECONDS")
    if override:
        return max(1, int(override))
    with app.app_context():
        return get_setting("sweep_interval_minutes") * 60


def run_sweep_if_leader(app: Flask, holder: str) -> dict | None:
    """The scheduled tick: sweep only while holding the lease. Errors are logged and recorded,
    never raised into the scheduler (the next tick tries again)."""
    with app.app_context():
        try:
            if not leases.acquire(LEASE_NAME, holder, lease_ttl(interval_seconds(app))):
                return None
            return sweep_once(holder=holder)
        except Exception:
            log.exception("scheduled sweep failed; retrying on the next tick")
            return None


def apply_imports_if_leader(app: Flask, holder: str) -> dict | None:
    """The import tick: while holding the lease, apply (or resume) queued bureau imports. The lease
    is renewed at every checkpoint; a runner that lost it stops and leaves the rest to the holder."""
    with app.app_context():
        ttl = lease_ttl(interval_seconds(app))
        try:
            if not leases.acquire(LEASE_NAME, holder, ttl):
                return None
            summary = imports.apply_pending(keep_going=lambda: leases.acquire(LEASE_NAME, holder, ttl))
            if summary:
                log.info("bureau import %(import_id)s: %(processed)s rows processed", summary)
            return summary
        except Exception:
            log.exception("bureau import step failed; retrying on the next tick")
            return None


def deliver_webhooks_if_leader(app: Flask, holder: str) -> dict | None:
    """The webhook tick: while holding the lease, fan new events out and send what is due (in
    batches, renewing the lease between them)."""
    with app.app_context():
        ttl = lease_ttl(interval_seconds(app))
        try:
            if not leases.acquire(LEASE_NAME, holder, ttl):
                return None
            summary = webhooks.deliver_pending(keep_going=lambda: leases.acquire(LEASE_NAME, holder, ttl))
            if summary["sent"] or summary["fanned_out"]:
                log.info("webhooks: %(fanned_out)s new deliveries, %(sent)s sent, %(delivered)s delivered, "
                         "%(failed)s to retry, %(dead)s dead", summary)
            return summary
        except Exception:
            log.exception("webhook delivery failed; retrying on the next tick")
            return None
