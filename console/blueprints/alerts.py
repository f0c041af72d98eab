"""The signed-in user's alerts, the navigation badge, acknowledging."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from console.auth import can, requires
from console.domain.alerts import KIND_LABELS
from console.extensions import db
from console.models import JobRun
from console.services import alerts as alert_service
from console.services.errors import Invalid
from console.templating import is_fragment_request, render

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


def _context() -> dict:
    kind = request.args.get("kind", "")
    show = request.args.get("show", "open")
    if show not in {"open", "done", "all"}:
        show = "open"
    runs = []
    if can("supervise"):
        runs = db.session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(10)).all()
    return {"alerts": alert_service.list_alerts(current_user, kind=kind, show=show), "kind": kind, "show": show,
            "kinds": KIND_LABELS, "runs": runs}


@bp.get("")
@requires("work_orders")
def index():
    """Alerts addressed to me (and, for supervisors, to the supervisors)."""
    return render("alerts/page.html", "alerts/_list.html", **_context())


@bp.get("/badge")
@requires("work_orders")
def badge():
    """The navigation badge: open alerts (polled)."""
    from urllib.parse import urlsplit

    here = urlsplit(request.headers.get("HX-Current-URL", "")).path
    return render_template("alerts/_badge.html", count=alert_service.unacknowledged_count(current_user),
                           active=here.startswith("/alerts"))


@bp.post("/acknowledge")
@requires("work_orders")
def acknowledge():
    """Acknowledge one or many alerts."""
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()]
    try:
        changed = alert_service.acknowledge(current_user, ids)
    except Invalid as exc:
        if is_fragment_request():
            return make_response(render_template("alerts/_list.html", error=exc.message, **_context()), 422)
        flash(exc.message, "error")
        return redirect(url_for("alerts.index"))
    if is_fragment_request():
        response = make_response(render_template("alerts/_list.html", **_context()))
        response.headers["HX-Trigger"] = "alertsChanged"
        return response
    flash(f"已确认 {changed} 条提醒", "success")
    return redirect(url_for("alerts.index", **request.args))
