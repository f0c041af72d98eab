"""Liveness and readiness for load balancers and operators; no sign-in."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from console.auth import public
from console.services.jobruns import database_reachable, scheduler_health
from console.services.monitoring import readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    """Liveness: 503 only when the database is unreachable. The scheduler's state is reported but
    does not fail it (restarting web processes cannot fix a stopped jobs runner; /readyz says so)."""
    database_ok = database_reachable()
    sweep = scheduler_health() if database_ok else {"ok": False, "state": "unknown", "last_success": None}
    body = {"status": "ok" if database_ok else "unhealthy", "database": database_ok, "scheduler": sweep}
    return jsonify(body), 200 if database_ok else 503


@bp.get("/readyz")
@public
def readyz():
    """Readiness: database, schema at the newest migration, sweep fresh; 503 names what failed."""
    checks = readiness(current_app.extensions["schema_heads"])
    failed = sorted(name for name, check in checks.items() if not check["ok"])
    body = {"status": "ready" if not failed else "not_ready", "failed": failed, "checks": checks}
    return jsonify(body), 200 if not failed else 503
