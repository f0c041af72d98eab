"""The order write core: the one place where an order row changes. Start reading here.

Two guarantees of the design live in this module and nowhere else:

* **Optimistic locking.** Every change of an order is one conditional ``UPDATE`` that bumps
  ``version`` (``_bumped``, the only place the version is incremented). A staff member's change
  carries the version they saw; a stale one raises ``Conflict`` (409) and changes nothing.
* **History.** Every change is recorded in the append-only ``order_events`` table, in the same
  transaction (``record`` and ``record_many``).

Use cases in ``orders``, ``postreview``, ``workbench``, ``supervision`` and ``alerts`` compose
these pieces inside one ``write_transaction()``:

``load_for_change`` (version, authorisation, state) → ``bump`` (field changes) or ``move`` (a
workflow transition: state, stage clock, due date, queue) → ``record`` (the event). Bulk
reassignment uses the set-based ``bump_many`` and ``record_many``.

Two bookkeeping writes deliberately leave ``version`` alone, so that they never turn a
reviewer's open form stale: deadlines recomputed after a rule or calendar change
(``reschedule_many``) and the sweep's next look at an order (``set_next_alert_many``). Both only
touch an order still in the stage they computed for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement, ColumnElement

from console.domain.calendar import to_local, utcnow
from console.domain.checks import sms_required
from console.domain.roles import Role
from console.domain.sla import due, due_soon_from
from console.domain.workflow import TERMINAL_STATES, Action, Route, State, TransitionRefused, plan, queue_of
from console.extensions import db
from console.models import Order, OrderEvent, OutboxEvent
from console.services import outbox
from console.services.actors import Actor
from console.services.errors import Conflict, Forbidden, NotFound
from console.services.rules import Rules, load_rules

STALE_MESSAGE = "此订单已被他人修改，请刷新后重试"


# --- reading an order for a change ----------------------------------------------------------------

def get_order(order_no: str) -> Order:
    """The order with this number, or ``NotFound``."""
    order = db.session.scalar(select(Order).where(Order.order_no == order_no))
    if order is None:
        raise NotFound(f"订单 {order_no} 不存在", order_no=order_no)
    return order


def stale(order: Order) -> Conflict:
    """The conflict of a change made on an out-of-date view of ``order``."""
    return Conflict(STALE_MESSAGE, order_no=order.order_no, stale=True, version=order.version)


def authorise(order: Order, actor: Actor) -> None:
    """Specialists act only on orders assigned to them; supervisors, the portal and jobs on any."""
    if actor.role == Role.SPECIALIST and order.assignee_id != actor.user_id:
        raise Forbidden("此订单未分配给您，请先领取", order_no=order.order_no)


def load_for_change(order_no: str, actor: Actor, expected_version: int | None,
                    state: State | None = None) -> Order:
    """The order a change is made to: at the version seen, the actor's to change, in ``state``.

    ``expected_version`` is None only for callers with no view of the order (the portal, jobs).
    The version is checked first, so a reviewer whose view is out of date always learns that.
    """
    order = get_order(order_no)
    if expected_version is not None and order.version != expected_version:
        raise stale(order)
    authorise(order, actor)
    if state is not None and order.state != state:
        raise Conflict(f"订单处于「{State(order.state).label}」，不能执行此操作", order_no=order_no)
    return order


# --- the compare-and-bump -------------------------------------------------------------------------

def _bumped(now: datetime) -> dict:
    """What every change of an order also writes: the version goes up by one (the only place it
    does), and the time of the change."""
    return {"version": Order.version + 1, "updated_at": now}


def _bumping(conditions: Sequence[ColumnElement], now: datetime, values: dict):
    """The statement that changes one order: the conditions hold, the version goes up by one."""
    return (update(Order).where(*conditions)
            .values(**_bumped(now), **values)
            .execution_options(synchronize_session=False))


def try_bump(order: Order, now: datetime, *, expected_version: int | None = None,
             where: Iterable[ColumnElement] = (), **values) -> bool:
    """Change ``order``'s row if it is still at ``expected_version`` and ``where`` holds."""
    conditions = [Order.id == order.id, *where]
    if expected_version is not None:
        conditions.append(Order.version == expected_version)
    plain = expected_version is not None and not any(isinstance(v, ClauseElement) for v in values.values())
    if not plain:
        changed = db.session.execute(_bumping(conditions, now, values)).rowcount == 1
        if changed:  # someone may have changed other columns meanwhile, or the database computed a value
            db.session.flush()
            db.session.refresh(order)
        return changed
    # The row was at the version this object was read at and every value is plain, so the row now
    # holds the object's values plus these — except the version and the bookkeeping columns that
    # change without one (the sweep's deadlines and next look), which the UPDATE returns. No
    # read-back of the whole row: an import applies thousands of changes in a row.
    written = db.session.execute(_bumping(conditions, now, values)
                                 .returning(Order.version, Order.updated_at, *_UNVERSIONED)).first()
    if written is None:
        return False
    db.session.flush()
    for key, value in {**values, **written._asdict()}.items():
        set_committed_value(order, key, value)
    return True


#: Columns written without a new version (``reschedule_many``, ``set_next_alert_many``).
_UNVERSIONED = (Order.due_at, Order.due_estimated, Order.due_soon_at, Order.next_alert_at)


def bump(order: Order, now: datetime, *, expected_version: int | None = None,
         where: Iterable[ColumnElement] = (), **values) -> None:
    """``try_bump``, and ``Conflict`` (stale) when the row had moved on."""
    if not try_bump(order, now, expected_version=expected_version, where=where, **values):
        raise stale(order)


def bump_many(order_ids: Sequence[int], now: datetime, *, where: Iterable[ColumnElement] = (),
              **values) -> set[int]:
    """The set-based variant (bulk reassignment): the ids of the rows that changed."""
    result = db.session.execute(_bumping([Order.id.in_(order_ids), *where], now, values).returning(Order.id))
    return set(result.scalars())


# --- history ---------------------------------------------------------------------------------------

def record(order: Order, actor: Actor, action: str, *, at: datetime, from_state: str | None = None,
           to_state: str | None = None, reasons: Iterable[str] = (), note: str = "",
           changes: dict | None = None) -> OrderEvent:
    """One entry of the order's history (in the caller's transaction), and the events it means for
    the applicant in the outbox (console.services.outbox), in the same transaction."""
    reasons = list(reasons)
    event = OrderEvent(order_id=order.id, at=at, actor_id=actor.user_id, actor_label=actor.label,
                       action=action, from_state=from_state, to_state=to_state, reasons=reasons,
                       note=note, changes=changes or {})
    db.session.add(event)
    outbox.emit(order, action, at=at, from_state=from_state, to_state=to_state, reasons=reasons, note=note)
    return event


def record_many(actor: Actor, action: str, at: datetime, entries: Sequence[tuple[int, str, dict]]) -> None:
    """Many entries at once: ``(order id, note, changes)`` each (one executemany statement)."""
    if entries:
        db.session.execute(insert(OrderEvent), [
            {"order_id": order_id, "at": at, "actor_id": actor.user_id, "actor_label": actor.label,
             "action": action, "from_state": None, "to_state": None, "reasons": [], "note": note,
             "changes": changes}
            for order_id, note, changes in entries])


# --- workflow moves --------------------------------------------------------------------------------

def route_for(order: Order, rules: Rules, *, mailing_required: bool | None = None) -> Route:
    """Where the order goes after 初审 and the mail check: mailing by choice, SMS by province."""
    rule = rules.provinces.get(order.province)
    return Route(
        mailing_required=order.mailing_required if mailing_required is None else mailing_required,
        sms_required=sms_required(rule, to_local(order.first_submitted_at).date()),
    )


def deadline_values(province: str, state: State | str, entered_at: datetime, rules: Rules) -> dict:
    """due_at, due_estimated, due_soon_at and next_alert_at for a stage entered at ``entered_at``."""
    limit = rules.limit_for(State(state), province)
    if limit is None:
        return {"due_at": None, "due_estimated": False, "due_soon_at": None, "next_alert_at": None}
    deadline = due(entered_at, limit, rules.calendar)
    soon = due_soon_from(entered_at, deadline.at)
    return {"due_at": deadline.at, "due_estimated": deadline.estimated, "due_soon_at": soon, "next_alert_at": soon}


def stage_values(province: str, state: State, entered_at: datetime, rules: Rules) -> dict:
    """State, queue, stage clock and deadlines of an order entering ``state`` at ``entered_at``."""
    return {"state": state.value, "queue": queue_of(state.value), "stage_entered_at": entered_at,
            **deadline_values(province, state, entered_at, rules)}


def planned(order: Order, action: Action, route: Route | None = None) -> State:
    """The state ``action`` moves ``order`` to, or ``Conflict`` naming why the rules refuse."""
    try:
        return plan(order.state, action, route)
    except TransitionRefused as exc:
        raise Conflict(exc.message, order_no=order.order_no, state=order.state, action=action.value) from None


def move(order: Order, action: Action, actor: Actor, *, now: datetime, expected_version: int | None = None,
         reasons: Iterable[str] = (), note: str = "", changes: dict | None = None, values: dict | None = None,
         entered_at: datetime | None = None, rules: Rules | None = None) -> State:
    """One workflow transition: plan it, move the row (state, clock, due date, queue), record it.

    The assignee stays while the order stays in the same queue and is released otherwise.
    ``values`` may carry ``mailing_required``, which also decides the route after 初审.
    """
    if expected_version is not None and order.version != expected_version:
        raise stale(order)  # what the reviewer saw is out of date, whatever else holds
    rules = rules or load_rules()
    values = dict(values or {})
    target = planned(order, action, route_for(order, rules, mailing_required=values.get("mailing_required")))
    from_state = order.state
    new = stage_values(order.province, target, entered_at or now, rules)
    if queue_of(from_state) != queue_of(target.value):
        new.update(assignee_id=None, claimed_at=None)
    if target in TERMINAL_STATES:
        new["closed_at"] = now
    new.update(values)  # the caller's explicit values win (a resubmission given back to its reviewer)
    bump(order, now, expected_version=order.version, where=[Order.state == from_state], **new)
    record(order, actor, action.value, at=now, from_state=from_state, to_state=target.value,
           reasons=reasons, note=note, changes=changes)
    return target


def move_many(moves: Sequence[tuple[Order, dict, str]], action: Action, actor: Actor, *, now: datetime,
              reasons: Sequence[str] = ()) -> None:
    """``move`` for many orders at once (bureau results imports): ``(order, values, note)`` each.

    The orders must have been read in this transaction with ``FOR UPDATE`` (``lock_orders``), so
    that their versions, states and event sequences cannot change under the batch. Each order's
    new row is planned exactly as ``move`` plans it; then one executemany UPDATE (guarded by id,
    version and state, as ``bump`` is), one INSERT of history entries and one INSERT of outbox
    events write them all. Raises ``Conflict`` when a row had moved on after all (nothing of the
    batch is then kept: the caller's transaction rolls back)."""
    if not moves:
        return
    rules = load_rules()
    updates: dict[tuple[str, ...], list[dict]] = {}
    events, outbox_rows = [], []
    for order, values, note in moves:
        authorise(order, actor)
        target = planned(order, action, route_for(order, rules))
        from_state = order.state
        new = stage_values(order.province, target, now, rules)
        if queue_of(from_state) != queue_of(target.value):
            new.update(assignee_id=None, claimed_at=None)
        if target in TERMINAL_STATES:
            new["closed_at"] = now
        new.update(values)
        types = outbox.types_for(action.value, from_state, target.value, reasons)
        params = {**new, "event_seq": order.event_seq + len(types)}
        updates.setdefault(tuple(sorted(params)), []).append(
            {"_id": order.id, "_version": order.version, "_from": from_state, **params})
        first_sequence = order.event_seq + 1
        for key, value in params.items():  # the row as it will be, for the events' texts
            set_committed_value(order, key, value)
        events.append({"order_id": order.id, "at": now, "actor_id": actor.user_id, "actor_label": actor.label,
                       "action": action.value, "from_state": from_state, "to_state": target.value,
                       "reasons": list(reasons), "note": note, "changes": {}})
        outbox_rows += outbox.rows_for(order, action.value, at=now, from_state=from_state, to_state=target.value,
                                       reasons=reasons, note=note, first_sequence=first_sequence)
    table = Order.__table__
    changed = 0
    for keys, rows in updates.items():
        changed += db.session.execute(
            update(table).where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"),
                                table.c.state == bindparam("_from"))
            .values({**{key: bindparam(key) for key in keys}, **_bumped(now)}), rows).rowcount
    if changed != len(moves):
        raise Conflict(STALE_MESSAGE, stale=True)
    for order, _values, _note in moves:  # read again if anyone asks (the database bumped them)
        db.session.expire(order, ["version", "updated_at"])
    db.session.execute(insert(OrderEvent), events)
    if outbox_rows:
        db.session.execute(insert(OutboxEvent), outbox_rows)


def lock_orders(order_nos: Sequence[str]) -> dict[str, Order]:
    """The orders with these numbers, read for a change of many (row locks on PostgreSQL; SQLite's
    write transaction already excludes other writers)."""
    if not order_nos:
        return {}
    return {o.order_no: o for o in db.session.scalars(
        select(Order).where(Order.order_no.in_(list(order_nos))).order_by(Order.id)
        .with_for_update(of=Order).execution_options(populate_existing=True))}


# --- bookkeeping that leaves the version alone ----------------------------------------------------

def reschedule_many(deadlines: Sequence[dict], *, at: datetime | None = None) -> None:
    """New deadlines, ``{"oid", "entered", "due_at", "due_estimated", "due_soon_at", "next_alert_at"}`` each;
    where ``"old_due_at"`` is given and differs, the applicant hears of it (``deadline.changed``)."""
    if deadlines:
        table = Order.__table__  # Core executemany: one statement for every row
        db.session.execute(
            update(table).where(table.c.id == bindparam("oid"), table.c.stage_entered_at == bindparam("entered"))
            .values(due_at=bindparam("new_due_at"), due_estimated=bindparam("new_due_estimated"),
                    due_soon_at=bindparam("new_due_soon_at"), next_alert_at=bindparam("new_next_alert_at")),
            [{"oid": d["oid"], "entered": d["entered"], **{f"new_{k}": d[k] for k in _DEADLINE_KEYS}}
             for d in deadlines])
        moved = [d["oid"] for d in deadlines if "old_due_at" in d and d["old_due_at"] != d["due_at"]]
        outbox.emit_deadlines(moved, at or utcnow())


_DEADLINE_KEYS = ("due_at", "due_estimated", "due_soon_at", "next_alert_at")


def set_next_alert_many(looks: Sequence[dict]) -> None:
    """When the sweep looks again, ``{"oid", "entered", "next"}`` each."""
    if looks:
        table = Order.__table__
        db.session.execute(
            update(table).where(table.c.id == bindparam("oid"), table.c.stage_entered_at == bindparam("entered"))
            .values(next_alert_at=bindparam("next")), looks)
