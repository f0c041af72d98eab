"""Order use cases: intake from the portal, transitions, claiming. One transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from console.database import is_postgres, write_transaction
from console.domain.calendar import to_local, utcnow
from console.domain.checks import sms_required
from console.domain.sla import due, due_soon_from
from console.domain.workflow import (
    QUEUE_STATES,
    WORKED_STATES,
    Action,
    Route,
    State,
    TransitionRefused,
    plan,
)
from console.extensions import db
from console.forms.order_body import BodyInvalid, body_hash, parse_order_body
from console.models import Order, OrderEvent, User
from console.services.actors import Actor
from console.services.errors import Conflict, Forbidden, Invalid, NotFound
from console.services.findings import refresh_findings
from console.services.mapping import apply_body
from console.services.rules import Rules, load_rules

#: How far in the future a portal's ``submitted_at`` may lie (clock skew).
CLOCK_SKEW = timedelta(minutes=5)


def get_order(order_no: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.order_no == order_no))
    if order is None:
        raise NotFound(f"订单 {order_no} 不存在", order_no=order_no)
    return order


def queue_of(state: str) -> str | None:
    for queue, states in QUEUE_STATES.items():
        if state in states:
            return queue
    return None


def route_for(order: Order, rules: Rules, *, mailing_required: bool | None = None) -> Route:
    rule = rules.provinces.get(order.province)
    return Route(
        mailing_required=order.mailing_required if mailing_required is None else mailing_required,
        sms_required=sms_required(rule, to_local(order.first_submitted_at).date()),
    )


def _parse(raw, *, order_no: str | None = None, now: datetime) -> tuple[dict, str]:
    try:
        body = parse_order_body(raw, order_no=order_no)
    except BodyInvalid as exc:
        raise Invalid("订单字段无效", fields=exc.fields) from None
    if datetime.fromisoformat(body["submitted_at"]) > now + CLOCK_SKEW:
        raise Invalid("订单字段无效", fields={"submitted_at": ["提交时间不能晚于当前时间"]})
    return body, body_hash(body)


def _record(order: Order, actor: Actor, action: str, *, at: datetime, from_state=None, to_state=None,
            reasons: Iterable[str] = (), note: str = "", changes: dict | None = None) -> OrderEvent:
    event = OrderEvent(order_id=order.id, at=at, actor_id=actor.user_id, actor_label=actor.label,
                       action=action, from_state=from_state, to_state=to_state, reasons=list(reasons),
                       note=note, changes=changes or {})
    db.session.add(event)
    return event


def _stage_values(order: Order, state: State, rules: Rules, now: datetime) -> dict:
    """State, stage clock, due date and the sweep's next look for an order entering ``state``."""
    values = {"state": state.value, "queue": queue_of(state.value), "stage_entered_at": now}
    values.update(deadline_values(order.province, state, now, rules))
    return values


def deadline_values(province: str, state: State | str, entered_at: datetime, rules: Rules) -> dict:
    """due_at, due_estimated, due_soon_at and next_alert_at for a stage entered at ``entered_at``."""
    limit = rules.limit_for(State(state), province)
    if limit is None:
        return {"due_at": None, "due_estimated": False, "due_soon_at": None, "next_alert_at": None}
    deadline = due(entered_at, limit, rules.calendar)
    soon = due_soon_from(entered_at, deadline.at)
    return {"due_at": deadline.at, "due_estimated": deadline.estimated, "due_soon_at": soon, "next_alert_at": soon}


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
    for key, value in _stage_values(order, State.INITIAL_REVIEW, rules, _entered(submitted_at, now)).items():
        setattr(order, key, value)
    db.session.add(order)
    db.session.flush()
    refresh_findings(order, rules)
    _record(order, actor, "submit", at=now, to_state=State.INITIAL_REVIEW)
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
        _plan_or_conflict(order, Action.RESUBMIT, Route())
        rules = load_rules()
        changes = apply_body(order, body)
        order.submission_hash = fingerprint
        order.submission_round += 1
        submitted_at = datetime.fromisoformat(body["submitted_at"])
        _move(order, Action.RESUBMIT, actor, rules=rules, route=Route(), now=now, changes=changes,
              entered_at=_entered(submitted_at, now), keep_assignee=False)
        refresh_findings(order, rules)
    return order


def terminate(order_no: str, action: Action, actor: Actor, *, now: datetime | None = None) -> Order:
    """The applicant abandons or revokes; refused from 初审 approval until the bureau decides."""
    now = now or utcnow()
    target = State.ABANDONED if action is Action.ABANDON else State.REVOKED
    with write_transaction():
        order = get_order(order_no)
        if order.state == target:
            return order  # a retried call
        _move(order, action, actor, rules=load_rules(), route=Route(), now=now)
    return order


def sms_verified(order_no: str, verified_at: datetime, actor: Actor, *, now: datetime | None = None) -> Order:
    """SMS verification done (portal or specialist): the order goes to the bureau."""
    now = now or utcnow()
    with write_transaction():
        order = get_order(order_no)
        if order.state != State.SMS_VERIFICATION and _has_event(order, Action.SMS_VERIFIED):
            return order  # a retried call
        _authorise(order, actor)
        _move(order, Action.SMS_VERIFIED, actor, rules=load_rules(), route=Route(), now=now,
              note=f"核验时间 {to_local(verified_at):%Y-%m-%d %H:%M}")
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
        order = for_change(order_no, actor, expected_version)
        rules = load_rules()
        extra = dict(values or {})
        if action is Action.APPROVE and mailing_required is None:
            rule = rules.provinces.get(order.province)
            mailing_required = bool(rule and rule.mailing_required)  # the province rule, unless told
        if mailing_required is not None:
            extra["mailing_required"] = mailing_required
        _move(order, action, actor, rules=rules, route=route_for(order, rules, mailing_required=mailing_required),
              now=now, expected_version=expected_version, reasons=reasons, note=note, values=extra)
    return order


def for_change(order_no: str, actor: Actor, expected_version: int, state: State | None = None) -> Order:
    """The order a staff member changes: at the version they saw, theirs to change, in ``state``.

    The version is checked first, so a reviewer whose view is out of date always learns that.
    """
    order = get_order(order_no)
    if order.version != expected_version:
        raise _stale(order)
    _authorise(order, actor)
    if state is not None and order.state != state:
        raise Conflict(f"订单处于「{State(order.state).label}」，不能执行此操作", order_no=order_no)
    return order


def _authorise(order: Order, actor: Actor) -> None:
    """Specialists act only on orders assigned to them; supervisors, the portal and jobs on any."""
    if actor.role == "specialist" and order.assignee_id != actor.user_id:
        raise Forbidden("此订单未分配给您，请先领取", order_no=order.order_no)


def _plan_or_conflict(order: Order, action: Action, route: Route) -> State:
    try:
        return plan(order.state, action, route)
    except TransitionRefused as exc:
        raise Conflict(exc.message, order_no=order.order_no, state=order.state, action=action.value) from None


def _move(order: Order, action: Action, actor: Actor, *, rules: Rules, route: Route, now: datetime,
          expected_version: int | None = None, reasons: Iterable[str] = (), note: str = "",
          changes: dict | None = None, values: dict | None = None, entered_at: datetime | None = None,
          keep_assignee: bool | None = None) -> None:
    """Apply one transition with a version check, recompute the due date, record it."""
    seen = order.version if expected_version is None else expected_version
    if seen != order.version:
        raise _stale(order)  # checked first: what the reviewer saw is out of date, whatever else holds
    target = _plan_or_conflict(order, action, route)
    from_state = order.state
    new = _stage_values(order, target, rules, entered_at or now)
    new.update(values or {})
    new.update(version=Order.version + 1, updated_at=now)
    if keep_assignee is None:
        keep_assignee = queue_of(from_state) == queue_of(target.value)
    if not keep_assignee:
        new.update(assignee_id=None, claimed_at=None)
    if target.value in {State.APPROVED, State.ABANDONED, State.REVOKED}:
        new["closed_at"] = now
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.version == seen, Order.state == from_state)
        .values(**new)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise _stale(order)
    _record(order, actor, action.value, at=now, from_state=from_state, to_state=target.value,
            reasons=reasons, note=note, changes=changes)
    db.session.flush()
    db.session.refresh(order)


def _stale(order: Order) -> Conflict:
    return Conflict("此订单已被他人修改，请刷新后重试", order_no=order.order_no, stale=True)


# --- claiming -------------------------------------------------------------------------------

def claim(order_no: str, actor: Actor, *, now: datetime | None = None) -> Order:
    """Take an unassigned order: one conditional UPDATE, so exactly one caller wins."""
    now = now or utcnow()
    _require_staff(actor)
    with write_transaction():
        result = db.session.execute(
            update(Order)
            .where(Order.order_no == order_no, Order.assignee_id.is_(None),
                   Order.state.in_([s.value for s in WORKED_STATES]))
            .values(assignee_id=actor.user_id, claimed_at=now, version=Order.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        order = get_order(order_no)
        if result.rowcount != 1:
            db.session.refresh(order)
            raise _claim_lost(order, actor)
        _record(order, actor, "claim", at=now)
        db.session.flush()
        db.session.refresh(order)
    return order


def _claim_lost(order: Order, actor: Actor) -> Conflict:
    if order.assignee_id == actor.user_id:
        return Conflict("您已领取此订单", order_no=order.order_no, mine=True)
    if order.assignee_id is not None:
        holder = db.session.get(User, order.assignee_id)
        name = holder.display_name if holder else "他人"
        return Conflict(f"已被 {name} 领取", order_no=order.order_no, holder=name)
    return Conflict(f"订单处于「{State(order.state).label}」，无需领取", order_no=order.order_no)


def unclaim(order_no: str, actor: Actor, *, now: datetime | None = None) -> Order:
    """Give an order back to the pool (its assignee, or a supervisor)."""
    now = now or utcnow()
    with write_transaction():
        order = get_order(order_no)
        if order.assignee_id is None:
            raise Conflict("此订单未被领取", order_no=order_no)
        _authorise(order, actor)
        previous = order.assignee_id
        result = db.session.execute(
            update(Order)
            .where(Order.id == order.id, Order.assignee_id == previous)
            .values(assignee_id=None, claimed_at=None, version=Order.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise _stale(order)
        _record(order, actor, "unclaim", at=now, changes={"assignee_id": [previous, None]})
        db.session.flush()
        db.session.refresh(order)
    return order


def claim_next(queue: str, actor: Actor, *, now: datetime | None = None) -> Order | None:
    """Take the most urgent unassigned order of a queue, or None when the pool is empty."""
    now = now or utcnow()
    _require_staff(actor)
    states = [s.value for s in QUEUE_STATES[queue]]
    for _ in range(5):  # another reviewer may take the candidate first; try the next one
        with write_transaction():
            pick = (
                select(Order.id)
                .where(Order.state.in_(states), Order.assignee_id.is_(None))
                .order_by(Order.due_at.asc().nulls_last(), Order.id)
                .limit(1)
            )
            if is_postgres():
                pick = pick.with_for_update(skip_locked=True)
            order_id = db.session.scalar(pick)
            if order_id is None:
                return None
            result = db.session.execute(
                update(Order)
                .where(Order.id == order_id, Order.assignee_id.is_(None))
                .values(assignee_id=actor.user_id, claimed_at=now, version=Order.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                order = db.session.get(Order, order_id)
                db.session.refresh(order)
                _record(order, actor, "claim", at=now, note="领取下一单")
                return order
    return None


def _require_staff(actor: Actor) -> None:
    if actor.role not in {"specialist", "supervisor", "admin"} or actor.user_id is None:
        raise Forbidden("只有审核人员可以领取订单")
