"""What a reviewer does in the workspace besides deciding: corrections, calls, notes, presence."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from console.database import is_postgres, write_transaction
from console.domain.calendar import utcnow
from console.domain.order_body import BodyInvalid, parse_order_body
from console.domain.order_fields import set_path
from console.domain.workflow import State
from console.extensions import db
from console.models import CallAttempt, Order, OrderNote, OrderViewer, User
from console.services.actors import Actor
from console.services.errors import Conflict, Invalid
from console.services.findings import current_findings, refresh_findings
from console.services.mapping import apply_body, order_to_body
from console.services.order_writes import bump, load_for_change, record
from console.services.rules import load_rules

#: An unanswered call is retried about an hour later; after this many the applicant counts as unreachable.
CALLBACK_AFTER = timedelta(hours=1)
UNREACHABLE_AFTER = 3
#: A viewer whose heartbeat is older than this has left the workspace.
PRESENCE_TTL = timedelta(seconds=30)


def correct(order_no: str, values: dict[str, object], actor: Actor, *, expected_version: int,
            note: str = "", now: datetime | None = None) -> tuple[Order, dict]:
    """Correct fields the applicant confirmed by phone; records the diff and re-runs the checks."""
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version)
        if order.state != State.INITIAL_REVIEW:
            raise Conflict("只有待初审的订单可以修改信息", order_no=order_no)
        body = order_to_body(order)
        for path, value in values.items():
            set_path(body, path, value)
        try:
            parsed = parse_order_body(body, order_no=order_no)
        except BodyInvalid as exc:
            raise Invalid("修改的内容无效", fields=exc.fields) from None
        changes = apply_body(order, parsed)
        if not changes:
            return order, {}
        bump(order, now, expected_version=expected_version)
        refresh_findings(order, load_rules())
        record(order, actor, "edit", at=now, note=note, changes=changes)
    return order, changes


def log_call(order_no: str, number: str, reached: bool, note: str, actor: Actor,
             *, now: datetime | None = None) -> CallAttempt:
    """Record one call attempt to the applicant."""
    now = now or utcnow()
    number = (number or "").strip()
    if not number or len(number) > 30:
        raise Invalid("请选择或填写拨打的号码", fields={"number": ["必填"]})
    with write_transaction():
        order = load_for_change(order_no, actor, None)
        call = CallAttempt(order_id=order.id, at=now, actor_id=actor.user_id, number=number, reached=reached,
                           note=(note or "").strip()[:500])
        db.session.add(call)
        record(order, actor, "call", at=now, note=f"{number} {'已接通' if reached else '未接通'} {call.note}".strip())
    return call


def calls(order: Order) -> list[CallAttempt]:
    return list(db.session.scalars(
        select(CallAttempt).where(CallAttempt.order_id == order.id).order_by(CallAttempt.at.desc())
    ).unique())


def call_status(attempts: list[CallAttempt], now: datetime | None = None) -> dict:
    """Whether to call back and when; unreachable after repeated unanswered calls."""
    now = now or utcnow()
    if not attempts or attempts[0].reached:
        return {"callback_at": None, "unreachable": False, "due": False}
    unanswered = 0
    for attempt in attempts:
        if attempt.reached:
            break
        unanswered += 1
    callback_at = attempts[0].at + CALLBACK_AFTER
    return {"callback_at": callback_at, "due": now >= callback_at, "unreachable": unanswered >= UNREACHABLE_AFTER,
            "unanswered": unanswered}


def add_note(order_no: str, text: str, actor: Actor, *, now: datetime | None = None) -> OrderNote:
    """An internal note on the order (the same permission rule as every other workspace action)."""
    text = (text or "").strip()
    if not text or len(text) > 2000:
        raise Invalid("备注不能为空，最长 2000 字", fields={"text": ["不能为空，最长 2000 字"]})
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, None)
        note = OrderNote(order_id=order.id, at=now, actor_id=actor.user_id, text=text)
        db.session.add(note)
    return note


def notes(order: Order) -> list[OrderNote]:
    return list(db.session.scalars(
        select(OrderNote).where(OrderNote.order_id == order.id).order_by(OrderNote.at.desc())
    ).unique())


def heartbeat(order: Order, user_id: int, *, now: datetime | None = None) -> list[str]:
    """Mark the user as viewing the order; returns the other viewers' names."""
    now = now or utcnow()
    with write_transaction():
        insert = pg_insert if is_postgres() else sqlite_insert
        stmt = insert(OrderViewer).values(order_id=order.id, user_id=user_id, seen_at=now)
        db.session.execute(stmt.on_conflict_do_update(index_elements=["order_id", "user_id"],
                                                      set_={"seen_at": now}))
        db.session.execute(delete(OrderViewer).where(OrderViewer.seen_at < now - PRESENCE_TTL * 20))
    return other_viewers(order, user_id, now=now)


def other_viewers(order: Order, user_id: int, *, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    return list(db.session.scalars(
        select(User.display_name).join(OrderViewer, OrderViewer.user_id == User.id)
        .where(OrderViewer.order_id == order.id, OrderViewer.user_id != user_id,
               OrderViewer.seen_at >= now - PRESENCE_TTL)
        .order_by(User.display_name)
    ))


def recheck(order_no: str, actor: Actor, *, expected_version: int | None = None,
            now: datetime | None = None) -> Order:
    """Run the 初审 checks again on demand; a changed result is stored (a new version) and recorded."""
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version)
        before = (order.error_count, order.warning_count, order.findings)
        findings = [f.as_dict() for f in current_findings(order, load_rules())]
        errors = sum(f["severity"] == "error" for f in findings)
        after = (errors, len(findings) - errors, findings)
        if before != after:
            bump(order, now, expected_version=order.version, findings=findings, error_count=after[0],
                 warning_count=after[1])
            record(order, actor, "recheck", at=now, note=f"错误 {after[0]}，提醒 {after[1]}")
    return order


def mark_material(order_no: str, position: int, wrong: bool, actor: Actor, *, expected_version: int,
                  now: datetime | None = None) -> Order:
    """A reviewer says an uploaded file is not (or is, after all) the kind it claims: it then no
    longer counts as that kind, the checks run again and the history says which file."""
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version)
        if order.state != State.INITIAL_REVIEW:
            raise Conflict("只有待初审的订单可以标记资料", order_no=order_no)
        material = next((m for m in order.materials if m.position == position), None)
        if material is None:
            raise Invalid("资料不存在", fields={"position": ["此订单没有这份资料"]})
        if material.wrong_kind == wrong:
            return order
        material.wrong_kind = wrong
        bump(order, now, expected_version=expected_version)
        refresh_findings(order, load_rules())
        record(order, actor, "edit", at=now, note=f"资料「{material.filename}」" + ("标记为类型不符" if wrong else "取消类型不符标记"),
               changes={f"materials[{position}].wrong_kind": [not wrong, wrong]})
    return order
