"""After 初审: mailed materials, SMS verification, the bureau's result. One transaction each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select

from console.database import write_transaction
from console.domain.calendar import to_local, utcnow
from console.domain.checks import filing_number_problem
from console.domain.mailing import COURIERS, ITEM_STATUSES, tracking_problem
from console.domain.workflow import Action, State
from console.extensions import db
from console.models import Order, Shipment
from console.services.actors import Actor
from console.services.errors import Conflict, Invalid
from console.services.order_writes import bump, load_for_change, move, move_many, record
from console.services.rules import load_rules

MAX_SMS_RESENDS = 2


def current_shipment(order: Order) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(Shipment.order_id == order.id)
                             .order_by(Shipment.round.desc()).limit(1))


def shipments(order: Order) -> list[Shipment]:
    return list(db.session.scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.round)))


def record_shipment(order_no: str, courier: str, tracking_no: str, actor: Actor, *, expected_version: int,
                    now: datetime | None = None) -> Order:
    """The applicant's parcel: courier and tracking number (checked against the courier's format)."""
    now = now or utcnow()
    problem = tracking_problem(courier, tracking_no)
    if problem:
        field = "courier" if courier not in COURIERS else "tracking_no"
        raise Invalid("快递信息无效", fields={field: [problem]})
    tracking_no = tracking_no.strip().upper()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version, State.AWAITING_MAIL)
        shipment = current_shipment(order)
        if shipment is None or shipment.received_on is not None:
            round_no = (db.session.scalar(select(func.max(Shipment.round)).where(Shipment.order_id == order.id))
                        or 0) + 1
            shipment = Shipment(order_id=order.id, round=round_no, courier=courier, tracking_no=tracking_no,
                                recorded_at=now, recorded_by=actor.user_id, items=[])
            db.session.add(shipment)
        else:  # correcting the parcel of the current round before it arrived
            shipment.courier, shipment.tracking_no = courier, tracking_no
            shipment.recorded_at, shipment.recorded_by = now, actor.user_id
        bump(order, now, expected_version=expected_version, courier=courier, tracking_no=tracking_no,
             mail_round=shipment.round)
        record(order, actor, "shipment", at=now, note=f"第 {shipment.round} 轮：{COURIERS[courier]} {tracking_no}")
    return order


def receive_mail(order_no: str, received_on: date, actor: Actor, *, expected_version: int,
                 now: datetime | None = None) -> Order:
    """The parcel arrived: the order goes to the materials check."""
    now = now or utcnow()
    if received_on > to_local(now).date():
        raise Invalid("签收日期无效", fields={"received_on": ["签收日期不能晚于今天"]})
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version, State.AWAITING_MAIL)
        shipment = current_shipment(order)
        if shipment is None or shipment.received_on is not None:
            raise Invalid("请先登记快递信息", fields={"courier": ["请先登记本轮快递信息"]})
        shipment.received_on = received_on
        move(order, Action.RECEIVE_MAIL, actor, now=now, expected_version=expected_version,
             note=f"第 {shipment.round} 轮资料于 {received_on} 签收")
    return order


def check_mail(order_no: str, results: dict[str, tuple[str, str]], actor: Actor, *, expected_version: int,
               now: datetime | None = None) -> Order:
    """Tick the checklist. All items fine: on to SMS or the bureau; else back to awaiting_mail."""
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version, State.MAIL_CHECK)
        rules = load_rules()
        items = list(rules.provinces[order.province].mailing_items)
        fields = {}
        for i, item in enumerate(items):
            status, _note = results.get(item, ("", ""))
            if status not in ITEM_STATUSES:
                fields[f"item_{i}"] = [f"请核对「{item}」"]
            elif status != "ok" and not _note.strip():
                fields[f"note_{i}"] = ["不合格或缺失须写明原因"]
        if fields:
            raise Invalid("核对清单未完成", fields=fields)
        shipment = current_shipment(order)
        checked = [{"item": item, "status": results[item][0], "note": results[item][1].strip()} for item in items]
        failed = [c for c in checked if c["status"] != "ok"]
        shipment.items, shipment.checked_at, shipment.checked_by = checked, now, actor.user_id
        shipment.outcome = "failed" if failed else "passed"
        if failed:
            note = "；".join(f"{c['item']}：{ITEM_STATUSES[c['status']]}（{c['note']}）" for c in failed)
            move(order, Action.MAIL_FAIL, actor, now=now, expected_version=expected_version,
                 reasons=["materials_missing"], note=note, rules=rules)
        else:
            move(order, Action.MAIL_PASS, actor, now=now, expected_version=expected_version,
                 note=f"第 {shipment.round} 轮资料核对通过", rules=rules)
    return order


def resend_sms(order_no: str, actor: Actor, *, expected_version: int, now: datetime | None = None) -> Order:
    """The MIIT system resent the code (at most twice); the 24-hour window does not restart."""
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version, State.SMS_VERIFICATION)
        if order.sms_resends >= MAX_SMS_RESENDS:
            raise Conflict(f"验证码最多重发 {MAX_SMS_RESENDS} 次", order_no=order_no)
        bump(order, now, expected_version=expected_version, sms_resends=Order.sms_resends + 1)
        record(order, actor, "sms_resend", at=now, note=f"第 {order.sms_resends} 次重发")
    return order


def sms_failed(order_no: str, reason: str, actor: Actor, *, expected_version: int,
               now: datetime | None = None) -> Order:
    """Five wrong entries (or another failure): the order goes back to the applicant."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写失败原因", fields={"reason": ["必填"]})
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version, State.SMS_VERIFICATION)
        move(order, Action.SMS_FAILED, actor, now=now, expected_version=expected_version, reasons=["sms_failed"],
             note=reason)
    return order


def bureau_approve(order_no: str, filing_number: str, actor: Actor, *, expected_version: int,
                   reason: str = "", now: datetime | None = None) -> Order:
    """The bureau approved: the website's filing number is confirmed and recorded."""
    now = now or utcnow()
    filing_number = (filing_number or "").strip()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version, State.BUREAU_REVIEW)
        problem = bureau_number_problem(order, filing_number, reason)
        if problem:
            raise Invalid("备案号无效", fields={problem[0]: [problem[1]]})
        move(order, Action.BUREAU_APPROVE, actor, now=now, expected_version=expected_version,
             note=_approval_note(filing_number, reason), values={"result_filing_number": filing_number})
    return order


def _approval_note(filing_number: str, reason: str) -> str:
    return f"网站备案号 {filing_number}" + (f"（与原备案号不同：{reason.strip()}）" if (reason or "").strip() else "")


def record_bureau_results(approvals: Sequence[tuple[Order, str, str]], rejections: Sequence[tuple[Order, str]],
                          actor: Actor, *, now: datetime | None = None) -> None:
    """Many bureau results at once (the results import, inside its transaction): approvals as
    ``(order, filing number, reason for a number differing from the original)``, rejections as
    ``(order, reason)``. The orders come from ``lock_orders`` and were judged as the one-order
    use cases judge them (``bureau_number_problem``, a rejection's reason)."""
    now = now or utcnow()
    move_many([(order, {"result_filing_number": number.strip()}, _approval_note(number.strip(), reason))
               for order, number, reason in approvals], Action.BUREAU_APPROVE, actor, now=now)
    move_many([(order, {}, reason.strip()) for order, reason in rejections], Action.BUREAU_REJECT, actor, now=now,
              reasons=["bureau"])


def bureau_number_problem(order: Order, number: str, reason: str = "") -> tuple[str, str] | None:
    """(field, message) when the filing number cannot be recorded for this order."""
    if not number:
        return "filing_number", "请填写管局确认的网站备案号"
    problem = filing_number_problem(number, website=True, province=order.province)
    if problem:
        return "filing_number", problem
    original = (order.original_filing or {}).get("filing_number") or order.website_filing_number
    if original and number != original and not (reason or "").strip():
        return "reason", f"与原备案号 {original} 不一致，须说明原因"
    return None


def bureau_reject(order_no: str, reason: str, actor: Actor, *, expected_version: int,
                  now: datetime | None = None) -> Order:
    """The bureau rejected, with its reason; the applicant may correct and resubmit."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写管局驳回原因", fields={"reason": ["必填"]})
    now = now or utcnow()
    with write_transaction():
        order = load_for_change(order_no, actor, expected_version, State.BUREAU_REVIEW)
        move(order, Action.BUREAU_REJECT, actor, now=now, expected_version=expected_version, reasons=["bureau"],
             note=reason)
    return order
