"""The signed-in user's alerts, the navigation badge, acknowledging."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, request, url_for
from flask_login import current_user

from console.auth import can, requires
from console.domain.alerts import KIND_LABELS
from console.forms.alerts import AcknowledgeForm
from console.responses import current_url, go, partial, respond, wants_fragment
from console.services import alerts as alert_service
from console.services.errors import Invalid
from console.services.jobruns import recent_runs

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


def _context() -> dict:
    kind = request.args.get("kind", "")
    show = request.args.get("show", "open")
    if show not in {"open", "done", "all"}:
        show = "open"
    return {"alerts": alert_service.list_alerts(current_user, kind=kind, show=show), "kind": kind, "show": show,
            "kinds": KIND_LABELS, "runs": recent_runs() if can("supervise") else []}


@bp.get("")
@requires("work_orders")
def index():
    """Alerts addressed to me (and, for supervisors, to the supervisors)."""
    return respond("alerts/page.html", "alerts/_list.html", **_context())


@bp.get("/badge")
@requires("work_orders")
def badge():
    """The navigation badge: open alerts (polled)."""
    return partial("alerts/_badge.html", count=alert_service.unacknowledged_count(current_user),
                   active=urlsplit(current_url()).path.startswith("/alerts"))


@bp.post("/acknowledge")
@requires("work_orders")
def acknowledge():
    """Acknowledge one or many alerts."""
    form = AcknowledgeForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(form.ids.errors[0] if form.ids.errors else "请选择要确认的提醒")
        changed = alert_service.acknowledge(current_user, form.ids.data)
    except Invalid as exc:
        if wants_fragment():
            return partial("alerts/_list.html", status=422, error=exc.message, **_context())
        return go(url_for("alerts.index"), exc.message, "error")
    if wants_fragment():
        return partial("alerts/_list.html", trigger="alertsChanged", **_context())
    return go(url_for("alerts.index", **request.args), f"已确认 {changed} 条提醒")
