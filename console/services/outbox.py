"""The outbox: every change the applicant should hear of becomes an event row in the change's own
transaction (called by the write core's ``record``), so an event exists if and only if its change
committed. Webhooks (console.services.webhooks) and the feed (``GET /api/v1/events``) read it.

Each event carries the order's next ``sequence`` (``orders.event_seq`` raised by an UPDATE in the
same transaction: concurrent changes to one order queue on its row and never share a number) and
the applicant's message rendered from the supervisors' template.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, select, update

from console.database import write_transaction
from console.domain import applicant_texts
from console.domain.calendar import deadline_text, utcnow
from console.domain.workflow import State
from console.extensions import db
from console.models import ApplicantText, Order, OutboxEvent
from console.services import reasons as reason_service
from console.services.audit import audit
from console.services.errors import Invalid, NotFound

FEED_LIMIT = 100
FEED_MAX = 1000

#: Entering these states is news of its own (whatever led there).
_ENTERED = {State.AWAITING_MAIL.value: "mailing.requested", State.SMS_VERIFICATION.value: "sms.verification_due",
            State.BUREAU_REVIEW.value: "bureau.submitted"}
_BY_ACTION = {
    "submit": ["order.submitted"], "resubmit": ["order.resubmitted"], "approve": ["review.approved"],
    "reject": ["review.returned"], "receive_mail": ["materials.received"], "mail_fail": ["materials.check_failed"],
    "mail_pass": ["materials.check_passed"], "sms_verified": ["sms.verified"], "sms_failed": ["sms.failed"],
    "bureau_approve": ["bureau.approved"], "bureau_reject": ["bureau.rejected"], "abandon": ["order.abandoned"],
    "revoke": ["order.revoked"],
}
#: Whose note is written for the applicant (other notes are internal: an override reason, …).
_APPLICANT_NOTES = {"reject", "mail_fail", "sms_failed", "bureau_reject"}


def types_for(action: str, from_state: str | None, to_state: str | None, reasons: Sequence[str] = ()) -> list[str]:
    """The event types a history entry means for the applicant (often none: a call, a note…)."""
    if action == "sms_failed" and "sms_expired" in reasons:
        return ["sms.expired"]
    types = list(_BY_ACTION.get(action, []))
    entered = _ENTERED.get(to_state or "")
    if entered and to_state != from_state and entered not in types:
        types.append(entered)
    return types


def _texts() -> dict[str, str]:
    saved = dict(db.session.execute(select(ApplicantText.type, ApplicantText.template)).all())
    return {**applicant_texts.DEFAULT_TEXTS, **saved}


def _values(order: Order, *, reasons: Sequence[str] = (), note: str = "") -> dict[str, str]:
    return {"order_no": order.order_no, "subject": order.subject_name, "site": order.website_name,
            "domain": order.main_domain, "province": order.province, "reasons": "；".join(reasons),
            "note": note, "deadline": deadline_text(order.due_at) if order.due_at else "",
            "filing_number": order.result_filing_number or ""}


def _data(order: Order, event_type: str, template: str, *, reasons: Sequence[str], note: str) -> dict:
    labels = reason_service.labels(list(reasons)) if reasons else []
    data = {"state": order.state, "text": applicant_texts.render(template, _values(order, reasons=labels, note=note))}
    if order.due_at is not None and order.queue is not None:
        data["due_at"] = order.due_at.isoformat()
        data["due_estimated"] = bool(order.due_estimated)
    if reasons:
        data["reasons"] = [{"code": code, "label": label} for code, label in zip(reasons, labels, strict=False)]
    if note:
        data["note"] = note
    if event_type == "bureau.approved":
        data["filing_number"] = order.result_filing_number
    return data


def emit(order: Order, action: str, *, at: datetime, from_state: str | None, to_state: str | None,
         reasons: Iterable[str] = (), note: str = "") -> list[str]:
    """Write the events a history entry means for the applicant (in the caller's transaction)."""
    reasons = list(reasons)
    types = types_for(action, from_state, to_state, reasons)
    if not types:
        return []
    db.session.flush()  # the order's row as changed, before the sequence UPDATE reads it
    last = db.session.execute(update(Order).where(Order.id == order.id)
                              .values(event_seq=Order.event_seq + len(types))
                              .returning(Order.event_seq).execution_options(synchronize_session=False)).scalar_one()
    db.session.execute(insert(OutboxEvent), rows_for(order, action, at=at, from_state=from_state, to_state=to_state,
                                                     reasons=reasons, note=note, first_sequence=last - len(types) + 1))
    return types


def rows_for(order: Order, action: str, *, at: datetime, from_state: str | None, to_state: str | None,
             reasons: Sequence[str], note: str, first_sequence: int) -> list[dict]:
    """The outbox rows of one history entry, numbered from ``first_sequence`` (the caller has
    raised ``orders.event_seq`` by as many in the same transaction: ``emit``, or the write core's
    set-based ``move_many``, which holds the rows locked)."""
    types = types_for(action, from_state, to_state, reasons)
    applicant_note = note if action in _APPLICANT_NOTES else ""
    texts = _texts()
    return [{"order_id": order.id, "order_no": order.order_no, "sequence": first_sequence + i, "type": t,
             "at": at, "data": _data(order, t, texts[t], reasons=reasons, note=applicant_note)}
            for i, t in enumerate(types)]


def emit_deadlines(order_ids: Sequence[int], at: datetime) -> int:
    """``deadline.changed`` for orders whose stage deadline was recomputed (settings, calendar);
    set-based: one UPDATE … RETURNING for the sequences, one INSERT for the events."""
    if not order_ids:
        return 0
    template = _texts()["deadline.changed"]
    count = 0
    for start in range(0, len(order_ids), 900):
        chunk = list(order_ids[start:start + 900])
        sequences = dict(db.session.execute(
            update(Order).where(Order.id.in_(chunk)).values(event_seq=Order.event_seq + 1)
            .returning(Order.id, Order.event_seq).execution_options(synchronize_session=False)).all())
        orders = db.session.scalars(select(Order).where(Order.id.in_(chunk))).all()
        rows = [{"order_id": o.id, "order_no": o.order_no, "sequence": sequences[o.id], "type": "deadline.changed",
                 "at": at, "data": _data(o, "deadline.changed", template, reasons=(), note="")} for o in orders]
        if rows:
            db.session.execute(insert(OutboxEvent), rows)
        count += len(rows)
    return count


def event_json(event) -> dict:
    """An event as the feed and the webhooks carry it (DESIGN.md: id, type, order_no, sequence, at, data)."""
    return {"id": str(event.id), "type": event.type, "order_no": event.order_no, "sequence": event.sequence,
            "at": event.at.isoformat(), "data": event.data}


def feed(after: int, limit: int = FEED_LIMIT) -> tuple[list[dict], str]:
    """Events after the cursor, oldest first, and the cursor to ask with next time."""
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.id > after)
                                .order_by(OutboxEvent.id).limit(limit)).all()
    return [event_json(e) for e in events], str(events[-1].id if events else after)


# --- the applicant's messages ------------------------------------------------------------------

SAMPLE = {"order_no": "JR2026112800001", "subject": "杭州云栈科技有限公司", "site": "云栈科技官网",
          "domain": "yunzhan.cn", "province": "浙江", "reasons": "信息与原备案不一致；联系电话或电子邮箱无效",
          "note": "请将网站名称改为与原备案一致。", "deadline": "12-01（周二）24:00 前", "filing_number": "浙ICP备12345678号-1"}


def texts() -> list[dict]:
    """Every event type with its template (the supervisors' or the default) and a sample rendering."""
    current = _texts()
    return [{"code": t.code, "label": t.label, "template": current[t.code], "default": t.default,
             "changed": current[t.code] != t.default, "preview": preview(current[t.code])}
            for t in applicant_texts.EVENT_TYPES]


def preview(template: str) -> str:
    """``template`` rendered for a sample order (or why it cannot be used)."""
    problem = applicant_texts.template_problem(template)
    return f"（无法使用：{problem}）" if problem else applicant_texts.render(template, SAMPLE)


def save_text(event_type: str, template: str, *, actor_id: int | None) -> None:
    """A supervisor's wording for one event type (the default again when it equals it)."""
    if event_type not in applicant_texts.DEFAULT_TEXTS:
        raise NotFound("事件类型不存在")
    template = template.strip()
    problem = applicant_texts.template_problem(template)
    if problem:
        raise Invalid("消息模板无效", fields={"template": [problem]})
    with write_transaction():
        row = db.session.get(ApplicantText, event_type)
        if template == applicant_texts.DEFAULT_TEXTS[event_type]:
            if row is not None:
                db.session.delete(row)
        else:
            row = row or ApplicantText(type=event_type)
            row.template, row.updated_by = template, actor_id
            row.updated_at = utcnow()
            db.session.add(row)
        audit("settings.text", actor_id=actor_id, target=event_type, detail={"template": template})
