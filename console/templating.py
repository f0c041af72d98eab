"""Template helpers: labels, filters for times, the globals every template sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, request, session, url_for
from flask_wtf.csrf import generate_csrf

from console.auth import can
from console.domain.calendar import deadline_text as deadline
from console.domain.calendar import to_local
from console.domain.checks import check_label
from console.domain.mailing import COURIERS, ITEM_STATUSES
from console.domain.materials import material_label
from console.domain.order_fields import CERTIFICATE_TYPES, ID_TYPES, SUBJECT_TYPES, Kind, label_for
from console.domain.roles import AFTER_DECISION, Role, role_label
from console.domain.sla import DUE_SOON_FRACTION
from console.domain.workflow import ACTION_LABELS, Action, State
from console.services.settings import get_setting

#: Event actions that are not workflow transitions.
EVENT_LABELS = {
    "submit": "提交订单", "claim": "领取", "unclaim": "放回队列", "edit": "修改信息", "call": "电话联系",
    "note": "内部备注", "reassign": "转派", "recheck": "重新检查", "shipment": "登记快递", "sms_resend": "重发验证码",
    **{a.value: label for a, label in ACTION_LABELS.items()},
}
CHOICE_LABELS = {"subject_type": SUBJECT_TYPES, "certificate_type": CERTIFICATE_TYPES, "id_type": ID_TYPES}


_CST = timedelta(hours=8)


def local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time as shown to reviewers, in Asia/Shanghai.

    China has kept UTC+8 without daylight saving since 1991, so for display a fixed offset is exact
    and several times cheaper than a zoneinfo conversion (a queue page formats a hundred times).
    """
    if moment is None:
        return ""
    if moment.tzinfo is None or moment.utcoffset() == timedelta(0):
        return (moment.replace(tzinfo=None) + _CST).strftime(fmt)
    return to_local(moment).strftime(fmt)


def time_left(due_at: datetime | None, entered_at: datetime | None = None, now: datetime | None = None) -> dict:
    """Text and tone for the remaining time: ok, soon (last 20 %), overdue."""
    if due_at is None:
        return {"text": "—", "tone": "none"}
    now = now or datetime.now(UTC)
    delta = due_at - now
    overdue = delta.total_seconds() < 0
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days}天{hours}小时"
    elif hours:
        text = f"{hours}小时{minutes}分"
    else:
        text = f"{minutes}分钟"
    if overdue:
        return {"text": "超时 " + text, "tone": "overdue"}
    tone = "ok"
    if entered_at is not None and delta <= (due_at - entered_at) * DUE_SOON_FRACTION:
        tone = "soon"
    return {"text": "剩余 " + text, "tone": tone}


def link(endpoint: str, filename: str | None = None) -> str:
    """``url_for`` of an endpoint without arguments (or a static file), built once per process.

    Every page's shell names about twenty such URLs (navigation, scripts, styles), and url_for
    costs a few microseconds each; they depend only on the app and where it is mounted. Static
    files' fingerprints depend on their content, so nothing is kept where it may change (debug)."""
    app = current_app._get_current_object()
    key = (request.script_root, endpoint, filename)
    kept = app.extensions.setdefault("console_links", {})
    url = kept.get(key)
    if url is None:
        url = url_for(endpoint, filename=filename) if filename else url_for(endpoint)
        if not app.debug:
            kept[key] = url
    return url


def asset(filename: str) -> str:
    """A static file's URL (fingerprinted), see ``link``."""
    return link("static", filename)


def pending_undo() -> dict | None:
    """The bulk move this user just made, while it can still be undone (shown once, by base.html)."""
    from console.services.supervision import UNDO_SECONDS  # services import templating helpers

    offer = session.pop("undo_move", None)
    if not offer:
        return None
    left = UNDO_SECONDS - (datetime.now(UTC) - datetime.fromisoformat(offer["at"])).total_seconds()
    return {**offer, "seconds": int(left)} if left > 2 else None


def init_app(app: Flask) -> None:
    from console.rowcache import queue_rows  # the row cache formats with time_left, above

    app.jinja_env.trim_blocks = True  # less whitespace in every page and fragment
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["local"] = local
    app.jinja_env.filters["deadline"] = deadline
    app.jinja_env.globals.update(
        time_left=time_left,
        queue_rows=queue_rows,
        link=link,
        asset=asset,
        can=can,
        csrf_token=generate_csrf,
        State=State,
        Action=Action,
        Kind=Kind,
        Role=Role,
        state_label=lambda s: State(s).label if s in State.__members__.values() else s,
        kind_label=lambda k: Kind(k).label if k in Kind.__members__.values() else k,
        role_label=role_label,
        event_label=lambda a: EVENT_LABELS.get(a, a),
        choice_label=lambda kind, value: CHOICE_LABELS[kind].get(value, value),
        field_label=label_for,
        check_label=check_label,
        idle_seconds=lambda: get_setting("session_idle_minutes") * 60,
        couriers=COURIERS,
        now_utc=lambda: datetime.now(UTC),
        item_statuses=ITEM_STATUSES,
        pending_undo=pending_undo,
        after_decision_choices=AFTER_DECISION,
        material_label=material_label,
    )
