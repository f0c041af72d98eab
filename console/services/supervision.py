"""Supervisors' work: the workload board, bulk reassignment, absences."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, insert, select

from console.database import write_transaction
from console.domain.calendar import local_midnight, to_local, utcnow
from console.domain.roles import Role
from console.domain.text import MAX_INT
from console.domain.workflow import DECISIONS, QUEUE_STATES, WORKED_STATES
from console.extensions import db
from console.models import Absence, Alert, Order, OrderEvent, User
from console.services import workcounts
from console.services.actors import Actor
from console.services.errors import Invalid, NotFound
from console.services.order_writes import bump_many, record_many
from console.services.queues import QueueFilter, filtered

#: A bulk move touches at most this many orders per statement (bind parameter limits).
CHUNK = 900


@dataclass
class Row:
    user_id: int | None
    name: str
    role: str = ""
    absent: Absence | None = None
    queues: dict[str, int] = field(default_factory=lambda: {q: 0 for q in QUEUE_STATES})
    overdue: int = 0
    due_soon: int = 0
    oldest: datetime | None = None
    decisions_today: int = 0
    decisions_week: int = 0

    @property
    def open(self) -> int:
        return sum(self.queues.values())


def _day_start(now: datetime, days_back: int = 0) -> datetime:
    return local_midnight(to_local(now).date() - timedelta(days=days_back))


def board(*, now: datetime | None = None) -> tuple[list[Row], Row, Row]:
    """Per specialist, the unassigned pool, and totals. Nothing here reads every open order: the
    counts are the open-work counters, overdue and due-soon figures index ranges of those orders,
    the oldest order one index probe per (person, state)."""
    now = now or utcnow()
    people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.role, User.display_name)).all()
    today = to_local(now).date()
    absences = {a.user_id: a for a in db.session.scalars(
        select(Absence).where(Absence.starts_on <= today, Absence.ends_on >= today))}
    rows = {u.id: Row(u.id, u.display_name, u.role, absences.get(u.id)) for u in people if u.role != Role.ADMIN}
    pool = Row(None, "未领取")
    total = Row(None, "合计")

    def row_of(assignee: int | None) -> Row:
        if assignee is None:
            return pool
        if assignee not in rows:
            rows[assignee] = Row(assignee, f"#{assignee}")
        return rows[assignee]

    _add_open_work(row_of, total, now)
    week_start = _day_start(now, to_local(now).weekday())
    decided = db.session.execute(
        select(OrderEvent.actor_id, func.sum(case((OrderEvent.at >= _day_start(now), 1), else_=0)), func.count())
        .where(OrderEvent.at >= week_start, OrderEvent.action.in_([a.value for a in DECISIONS]), OrderEvent.actor_id.is_not(None))
        .group_by(OrderEvent.actor_id)
    ).all()
    for actor_id, today_count, week_count in decided:
        for row in (rows.get(actor_id), total):
            if row is not None:
                row.decisions_today += int(today_count or 0)
                row.decisions_week += int(week_count or 0)
    return list(rows.values()), pool, total


def _add_open_work(row_of, total: Row, now: datetime) -> None:
    """Open orders, overdue, due soon and the oldest per person (and in the total)."""
    # Open orders per person and state: the trigger-kept counters (constant in the table's size).
    keys = []
    for queue, state, assignee, count in workcounts.open_counts():
        keys.append((state, assignee))
        for row in (row_of(assignee), total):
            row.queues[queue] += count
    # Overdue and due soon per person: index-only ranges of the overdue and due-soon orders
    # (ix_orders_open_due, ix_orders_open_soon), as long as those lists, not the table.
    overdue = select(Order.assignee_id, func.count()).where(Order.queue.is_not(None), Order.due_at < now)
    soon = select(Order.assignee_id, func.count()).where(Order.queue.is_not(None), Order.due_soon_at <= now,
                                                          Order.due_at >= now)
    for attribute, query in (("overdue", overdue), ("due_soon", soon)):
        for assignee, count in db.session.execute(query.group_by(Order.assignee_id)).all():
            for row in (row_of(assignee), total):
                setattr(row, attribute, getattr(row, attribute) + int(count))
    # The oldest order per person and state: one probe of ix_orders_open_age per counter key.
    # ORDER BY the index's columns and LIMIT 1, not min(): PostgreSQL turns min() into a probe only
    # under equalities, and ``assignee_id IS NULL`` is not one, so min() over the unclaimed orders
    # read all of them (60,000 index entries, 22 ms at 1,000,000 orders; the probe reads one).
    for start in range(0, len(keys), 100):
        chunk = keys[start:start + 100]
        oldest = db.session.execute(select(*(
            select(Order.stage_entered_at).where(
                Order.queue.is_not(None), Order.state == state,
                Order.assignee_id.is_(None) if assignee is None else Order.assignee_id == assignee)
            .order_by(Order.assignee_id, Order.stage_entered_at).limit(1).scalar_subquery()
            for state, assignee in chunk))).one()
        for (_state, assignee), at in zip(chunk, oldest, strict=True):
            for row in (row_of(assignee), total):
                if at is not None and (row.oldest is None or at < row.oldest):
                    row.oldest = at


# --- reassignment ------------------------------------------------------------------------------

@dataclass
class MoveResult:
    moved: list[str]
    skipped: list[str]  # changed since the supervisor looked
    not_found: list[str]
    at: datetime | None = None  # the move's time: its history entries share it (undo_reassign)


def _target(to: str) -> User | None:
    if to == "none":
        return None
    user = db.session.get(User, int(to)) if to.isdigit() and int(to) <= MAX_INT else None
    if user is None or not user.active or user.role == Role.ADMIN:
        raise Invalid("转派对象无效", fields={"to": ["请选择一位在职的审核人员，或「放回待领取」"]})
    return user


def reassign(actor: Actor, *, to: str, reason: str, snapshot_at: datetime, order_nos: list[str] | None = None,
             queue: str | None = None, filters: QueueFilter | None = None, now: datetime | None = None) -> MoveResult:
    """Move the chosen orders (or every order matching a queue filter) to a person or the pool.

    Orders changed after ``snapshot_at`` (when the supervisor looked) are skipped and reported,
    never overwritten. One transaction; set-based in chunks, so thousands of orders take seconds.
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写转派原因", fields={"reason": ["必填"]})
    if not order_nos and queue is None:
        raise Invalid("请选择订单", fields={"orders": ["至少选择一个订单，或选择「全部符合筛选条件的订单」"]})
    with write_transaction():
        target = _target(to)
        target_id = target.id if target else None
        if order_nos:
            candidates = []
            for start in range(0, len(order_nos), CHUNK):
                candidates += db.session.execute(
                    select(Order.id, Order.order_no, Order.updated_at, Order.assignee_id, Order.state)
                    .where(Order.order_no.in_(order_nos[start:start + CHUNK]))).all()
        else:
            candidates = db.session.execute(
                select(Order.id, Order.order_no, Order.updated_at, Order.assignee_id, Order.state)
                .where(*filtered(queue, filters or QueueFilter(), actor.user_id or 0, now=now))).all()
        found = {c.order_no for c in candidates}
        not_found = sorted(set(order_nos or []) - found)
        worked = {s.value for s in WORKED_STATES}
        movable = [c for c in candidates if c.updated_at <= snapshot_at and c.state in worked
                   and c.assignee_id != target_id]
        skipped = sorted(c.order_no for c in candidates if c.updated_at > snapshot_at or c.state not in worked)
        moved_ids: set[int] = set()
        for start in range(0, len(movable), CHUNK):
            moved_ids |= bump_many([c.id for c in movable[start:start + CHUNK]], now,
                                   where=[Order.updated_at <= snapshot_at], assignee_id=target_id,
                                   claimed_at=now if target_id else None)
        moved = [c for c in movable if c.id in moved_ids]
        skipped += [c.order_no for c in movable if c.id not in moved_ids]
        name = target.display_name if target else "待领取"
        record_many(actor, "reassign", now, [(c.id, f"转派给 {name}：{reason}",
                                              {"assignee_id": [c.assignee_id, target_id]}) for c in moved])
        if moved:
            # Notices are keyed by the move's time (the unique key of alerts), one kind per side.
            notices = [{"order_id": c.id, "stage_entered_at": now, "state": c.state, "kind": kind,
                        "recipient_id": person, "created_at": now, "due_at": None}
                       for c in moved
                       for kind, person in (("reassigned", target_id), ("reassigned_away", c.assignee_id))
                       if person is not None]
            if notices:
                db.session.execute(insert(Alert), notices)
    return MoveResult(sorted(c.order_no for c in moved), sorted(set(skipped)), not_found, now)


# --- absences ----------------------------------------------------------------------------------

def add_absence(user_id: int, starts_on: date, ends_on: date, note: str, actor: Actor) -> Absence:
    if ends_on < starts_on:
        raise Invalid("日期无效", fields={"ends_on": ["结束日期不能早于开始日期"]})
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("用户不存在")
        absence = Absence(user_id=user_id, starts_on=starts_on, ends_on=ends_on, note=(note or "")[:200],
                          created_at=utcnow(), created_by=actor.user_id)
        db.session.add(absence)
    return absence


def end_absence(absence_id: int) -> None:
    with write_transaction():
        absence = db.session.get(Absence, absence_id)
        if absence is None:
            raise NotFound("记录不存在")
        db.session.delete(absence)


def absent_user_ids(on: date) -> set[int]:
    return set(db.session.scalars(select(Absence.user_id).where(Absence.starts_on <= on, Absence.ends_on >= on)))


def absences_from(day: date) -> list[Absence]:
    """Absences that have not ended before ``day``, earliest first."""
    return list(db.session.scalars(select(Absence).where(Absence.ends_on >= day).order_by(Absence.starts_on)))


def release_all(user_id: int, actor: Actor, *, to: str, reason: str,
                now: datetime | None = None) -> tuple[int, int, datetime]:
    """Every unfinished order of a person, in every queue, to the pool or to someone:
    (moved, skipped, the move's time, which undoes it)."""
    now = now or utcnow()
    moved = skipped = 0
    for queue in QUEUE_STATES:
        result = reassign(actor, to=to, reason=reason, snapshot_at=now, queue=queue,
                          filters=QueueFilter(assignee=str(user_id)), now=now)
        moved, skipped = moved + len(result.moved), skipped + len(result.skipped)
    return moved, skipped, now


# --- undo of a bulk move -----------------------------------------------------------------------

#: How long a bulk move can be taken back.
UNDO_SECONDS = 30


def undo_reassign(actor: Actor, batch_at: datetime, *, now: datetime | None = None) -> MoveResult:
    """Take back the bulk move ``actor`` made at ``batch_at`` (its history entries share that time),
    within UNDO_SECONDS: every order that has not changed since goes back to whoever had it, and the
    notices of the move are withdrawn. Orders touched since are left alone and reported."""
    now = now or utcnow()
    if actor.user_id is None or not (timedelta(0) <= now - batch_at <= timedelta(seconds=UNDO_SECONDS)):
        raise Invalid(f"只能在 {UNDO_SECONDS} 秒内撤销自己刚做的批量转派")
    with write_transaction():
        entries = db.session.execute(
            select(OrderEvent.order_id, OrderEvent.changes, Order.order_no, Order.updated_at)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(OrderEvent.at == batch_at, OrderEvent.action == "reassign",
                   OrderEvent.actor_id == actor.user_id)).all()
        if not entries:
            raise Invalid("没有可撤销的批量转派")
        back_to: dict[int | None, list] = {}
        for entry in entries:
            before, after = (entry.changes or {}).get("assignee_id", [None, None])
            back_to.setdefault(before, []).append((entry, after))
        restored: list[tuple] = []
        for before, group in back_to.items():
            for start in range(0, len(group), CHUNK):
                chunk = group[start:start + CHUNK]
                done = bump_many([e.order_id for e, _ in chunk], now, where=[Order.updated_at == batch_at],
                                 assignee_id=before, claimed_at=now if before else None)
                restored += [(e, after, before) for e, after in chunk if e.order_id in done]
        record_many(actor, "reassign", now, [(e.order_id, "撤销批量转派", {"assignee_id": [after, before]})
                                             for e, after, before in restored])
        undone_ids = [e.order_id for e, _, _ in restored]
        for start in range(0, len(undone_ids), CHUNK):
            db.session.execute(Alert.__table__.delete().where(
                Alert.order_id.in_(undone_ids[start:start + CHUNK]), Alert.created_at == batch_at,
                Alert.kind.in_(("reassigned", "reassigned_away")), Alert.acknowledged_at.is_(None)))
    undone = {e.order_no for e, _, _ in restored}
    return MoveResult(sorted(undone), sorted({e.order_no for e in entries} - undone), [])
