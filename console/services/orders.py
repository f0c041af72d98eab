"""Order use cases: intake from the portal, transitions, claiming. One transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from console.database import is_postgres, write_transaction
from console.domain.calendar import to_local, utcnow
from console.domain.order_body import BodyInvalid, body_hash, parse_order_body
from console.domain.roles import is_role
from console.domain.workflow import WORKED_STATES, Action, State
from console.extensions import db
from console.models import Order, OrderEvent, User
from console.services.actors import Actor
from console.services.errors import Conflict, Forbidden, Invalid
from console.services.findings import refresh_findings
from console.services.mapping import apply_body
from console.services.order_writes import (
    bump,
    get_order,
    load_for_change,
    move,
    planned,
    record,
    stage_values,
    try_bump,
)
from console.services.queues import URGENCY, QueueFilter, filtered
from console.services.rules import load_rules
from console.services.supervision import absent_user_ids

__all__ = ["claim", "claim_next", "decide", "get_order", "resubmit", "sms_verified", "submit", "terminate",
           "unclaim"]

#: How far in the future a portal's ``submitted_at`` may lie (clock skew).
CLOCK_SKEW = timedelta(minutes=5)


def _parse(raw, *, order_no: str | None = None, now: datetime) -> tuple[dict, str]:
    try:
        body = parse_order_body(raw, order_no=order_no)
    except BodyInvalid as exc:
        raise Invalid("订单字段无效", fields=exc.fields) from None
    if datetime.fromisoformat(body["submitted_at"]) > now + CLOCK_SKEW:
        raise Invalid("订单字段无效", fields={"submitted_at": ["提交时间不能晚于当前时间"]})
    return body, body_hash(body)


def submit(raw, actor: Actor, *, now: datetime | None = None) -> tuple[Order, bool]:
    """A submitted order enters 初审; re-posting the same body returns the same order."""
    now = now or utcnow()
    body, fingerprint = _parse(raw, now=now)
    try:
        with write_transaction():
            order, created = _submit(body, fingerprint, actor, now)
    except IntegrityError:
        # Two identical posts raced on PostgreSQL; the loser answers like a re-post.
        db.session.rollback()
        order = get_order(body["order_no"])
        if order.intake_hash != fingerprint:
            raise _different_body(order) from None
        return order, False
    return order, created


def _different_body(order: Order) -> Conflict:
    return Conflict(f"订单号 {order.order_no} 已存在，且内容不同", order_no=order.order_no)


def _submit(body: dict, fingerprint: str, actor: Actor, now: datetime) -> tuple[Order, bool]:
    existing = db.session.scalar(select(Order).where(Order.order_no == body["order_no"]))
    if existing is not None:
        if existing.intake_hash != fingerprint:
            raise _different_body(existing)
        return existing, False
    rules = load_rules()
    submitted_at = datetime.fromisoformat(body["submitted_at"])
    order = Order(order_no=body["order_no"], intake_hash=fingerprint, submission_hash=fingerprint,
                  first_submitted_at=submitted_at, created_at=now, updated_at=now, version=1)
    apply_body(order, body)
    for key, value in stage_values(order.province, State.INITIAL_REVIEW, _entered(submitted_at, now),
                                   rules).items():
        setattr(order, key, value)
    db.session.add(order)
    db.session.flush()
    refresh_findings(order, rules)
    record(order, actor, "submit", at=now, to_state=State.INITIAL_REVIEW)
    return order, True


def _entered(submitted_at: datetime, now: datetime) -> datetime:
    """The stage clock starts at submission (the applicant's promise), never in the future."""
    return min(submitted_at, now)


def resubmit(order_no: str, raw, actor: Actor, *, now: datetime | None = None) -> Order:
    """A corrected order after 退回 or 管局驳回 goes back to 初审, with the field diffs recorded."""
    now = now or utcnow()
    body, fingerprint = _parse(raw, order_no=order_no, now=now)
    with write_transaction():
        order = get_order(order_no)
        if order.state == State.INITIAL_REVIEW and order.submission_hash == fingerprint:
            return order  # a retried resubmission
        planned(order, Action.RESUBMIT)
        rules = load_rules()
        changes = apply_body(order, body)
        order.submission_hash = fingerprint
        order.submission_round += 1
        submitted_at = datetime.fromisoformat(body["submitted_at"])
        reviewer = _returning_reviewer(order, now)
        move(order, Action.RESUBMIT, actor, now=now, changes=changes, entered_at=_entered(submitted_at, now),
             rules=rules, note=f"第 {order.submission_round} 次提交，回到原审核人 {reviewer.display_name}" if reviewer
             else f"第 {order.submission_round} 次提交",
             values={"assignee_id": reviewer.id, "claimed_at": now} if reviewer else None)
        refresh_findings(order, rules)
    return order


def _returning_reviewer(order: Order, now: datetime) -> User | None:
    """Who took the last 初审 decision on the order, while they are active and not absent today:
    a resubmission goes back to them (they know the order), else to the pool."""
    actor_id = db.session.scalar(
        select(OrderEvent.actor_id).where(OrderEvent.order_id == order.id, OrderEvent.actor_id.is_not(None),
                                          OrderEvent.action.in_([Action.REJECT.value, Action.APPROVE.value]))
        .order_by(OrderEvent.id.desc()).limit(1))
    reviewer = db.session.get(User, actor_id) if actor_id is not None else None
    if reviewer is None or not reviewer.active or not is_role(reviewer.role):
        return None
    if reviewer.id in absent_user_ids(to_local(now).date()):
        return None
    return reviewer


def terminate(order_no: str, action: Action, actor: Actor, *, now: datetime | None = None) -> Order:
    """The applicant abandons or revokes; refused from 初审 approval until the bureau decides."""
    now = now or utcnow()
    target = State.ABANDONED if action is Action.ABANDON else State.REVOKED
    with write_transaction():
        order = get_order(order_no)
        if order.state == target:
            return order  # a retried call
        move(order, action, actor, now=now)
    return order


def sms_verified(order_no: str, verified_at: datetime, actor: Actor, *, expected_version: int | None = None,
                 now: datetime | None = None) -> Order:
    """SMS verification done (portal, or a specialist at the version seen): the order goes to the bureau."""
    now = now or utcnow()
    with write_transaction():
        order = get_order(order_no)
        if expected_version is None and order.state != State.SMS_VERIFICATION and _has_event(order,
                                                                                           Action.SMS_VERIFIED):
            return order  # the portal retried its call
        order = load_for_change(order_no, actor, expected_version)
        move(order, Action.SMS_VERIFIED, actor, now=now, note=f"核验时间 {to_local(verified_at):%Y-%m-%d %H:%M}")
    return order


def _has_event(order: Order, action: Action) -> bool:
    return db.session.scalar(
        select(OrderEvent.id).where(OrderEvent.order_id == order.id, OrderEvent.action == action.value).limit(1)
    ) is not None


def decide(order_no: str, action: Action, actor: Actor, *, expected_version: int,
           reasons: Iterable[str] = (), note: str = "", mailing_required: bool | None = None,
           values: dict | None = None, now: datetime | None = None) -> Order:
    """A staff decision on an order (初审, mail check, SMS, bureau result) at the version seen."""
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version)
        rules = load_rules()
        extra = dict(values or {})
        if action is Action.APPROVE and mailing_required is None:
            rule = rules.provinces.get(order.province)
            mailing_required = bool(rule and rule.mailing_required)  # the province rule, unless told
        if mailing_required is not None:
            extra["mailing_required"] = mailing_required
        move(order, action, actor, now=now, expected_version=expected_version, reasons=reasons, note=note,
             values=extra, rules=rules)
    return order


# --- claiming -------------------------------------------------------------------------------

def claim(order_no: str, actor: Actor, *, now: datetime | None = None) -> Order:
    """Take an unassigned order: one conditional UPDATE, so exactly one caller wins."""
    now = now or utcnow()
    _require_staff(actor)
    with write_transaction():
        order = get_order(order_no)
        if not try_bump(order, now, where=[Order.assignee_id.is_(None), Order.state.in_(WORKED_STATES)],
                        assignee_id=actor.user_id, claimed_at=now):
            db.session.refresh(order)
            raise _claim_lost(order, actor)
        record(order, actor, "claim", at=now)
    return order


def _claim_lost(order: Order, actor: Actor) -> Conflict:
    if order.assignee_id == actor.user_id:
        return Conflict("您已领取此订单", order_no=order.order_no, mine=True)
    if order.assignee_id is not None:
        holder = db.session.get(User, order.assignee_id)
        name = holder.display_name if holder else "他人"
        return Conflict(f"已被 {name} 领取", order_no=order.order_no, holder=name)
    return Conflict(f"订单处于「{State(order.state).label}」，无需领取", order_no=order.order_no)


def unclaim(order_no: str, actor: Actor, *, expected_version: int | None = None,
            now: datetime | None = None) -> Order:
    """Give an order back to the pool (its assignee, or a supervisor), at the version seen."""
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version)
        if order.assignee_id is None:
            raise Conflict("此订单未被领取", order_no=order_no)
        previous = order.assignee_id
        bump(order, now, expected_version=order.version, where=[Order.assignee_id == previous],
             assignee_id=None, claimed_at=None)
        record(order, actor, "unclaim", at=now, changes={"assignee_id": [previous, None]})
    return order


def claim_next(queue: str, actor: Actor, *, filters: QueueFilter | None = None, exclude: str | None = None,
               now: datetime | None = None) -> Order | None:
    """Take the most urgent unassigned order of a queue under the queue's filters (province, kind,
    state, search, overdue), or None when no such order is free. ``exclude``: an order just
    decided, which may still be in the queue (a failed mail check waits for a new parcel)."""
    now = now or utcnow()
    _require_staff(actor)
    wanted = replace(filters or QueueFilter(), assignee="none")
    for _ in range(5):  # another reviewer may take the candidate first; try the next one
        with write_transaction():
            pick = (
                select(Order)
                .where(*filtered(queue, wanted, actor.user_id or 0, now=now),
                       *([Order.order_no != exclude] if exclude else []))
                .order_by(*URGENCY)
                .limit(1)
            )
            if is_postgres():
                pick = pick.with_for_update(skip_locked=True, of=Order)  # not the joined assignee
            order = db.session.scalar(pick)
            if order is None:
                return None
            if try_bump(order, now, where=[Order.assignee_id.is_(None)], assignee_id=actor.user_id, claimed_at=now):
                record(order, actor, "claim", at=now, note="领取下一单")
                return order
    return None


def _require_staff(actor: Actor) -> None:
    if not is_role(actor.role) or actor.user_id is None:
        raise Forbidden("只有审核人员可以领取订单")
