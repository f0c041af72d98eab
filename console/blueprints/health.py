"""Liveness for load balancers and operators; no sign-in."""

from __future__ import annotations

from flask import Blueprint, jsonify

from console.auth import public
from console.services.jobruns import database_reachable, scheduler_health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    """JSON: database reachable, the last scheduler run; 503 when unhealthy."""
    database_ok = database_reachable()
    sweep = scheduler_health() if database_ok else {"ok": False, "last_success": None}
    healthy = database_ok and sweep["ok"]
    body = {"status": "ok" if healthy else "unhealthy", "database": database_ok, "scheduler": sweep}
    return jsonify(body), 200 if healthy else 503
