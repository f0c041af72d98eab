"""Keeping the rules: SLA limits, province rules, the calendar, the reason catalogue.

Every change is recorded (who, when, what) in the audit log, and a change that moves deadlines
recomputes the due dates of the open orders it affects, so queues and the sweep follow at once.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select

from console.database import write_transaction
from console.domain.calendar import package_has_year, utcnow
from console.domain.materials import MATERIAL_KINDS
from console.domain.order_fields import SUBJECT_TYPES
from console.domain.provinces import PROVINCES
from console.domain.sla import Unit
from console.domain.workflow import TIMED_STATES, State
from console.extensions import db
from console.models import (
    CalendarOverride,
    CalendarYear,
    MaterialRuleRow,
    Order,
    ProvinceRuleRow,
    RejectionReason,
    SlaLimitRow,
)
from console.services import workcounts
from console.services.actors import Actor
from console.services.audit import audit
from console.services.errors import Invalid, NotFound
from console.services.order_writes import deadline_values, reschedule_many
from console.services.rules import load_rules


def recompute_due(*, states: set[str] | None = None, province: str | None = None,
                  now: datetime | None = None) -> int:
    """Recompute due dates of open orders in timed states (optionally of some states or one province).

    Works on the open orders only (a few thousand), reading four columns and writing back with one
    executemany statement; called inside the caller's transaction.
    """
    rules = load_rules()
    wanted = [s.value for s in TIMED_STATES if states is None or s.value in states]
    query = select(Order.id, Order.state, Order.province, Order.stage_entered_at, Order.due_at) \
        .where(Order.state.in_(wanted))
    if province:
        query = query.where(Order.province == province)
    params = [{"oid": oid, "entered": entered, "old_due_at": due, **deadline_values(prov, state, entered, rules)}
              for oid, state, prov, entered, due in db.session.execute(query)]
    reschedule_many(params)
    return len(params)


def set_sla(stage: str, limit: int, unit: str, actor: Actor) -> int:
    if stage not in {s.value for s in TIMED_STATES}:
        raise Invalid("环节无效", fields={"stage": ["环节无效"]})
    if unit not in {u.value for u in Unit}:
        raise Invalid("单位无效", fields={"unit": ["单位无效"]})
    if not isinstance(limit, int) or not 1 <= limit <= (720 if unit == "hours" else 60):
        raise Invalid("时限无效", fields={"limit": ["工作日 1–60，小时 1–720"]})
    with write_transaction():
        row = db.session.get(SlaLimitRow, stage) or SlaLimitRow(stage=stage)
        old = (row.limit, row.unit) if row.limit else None
        row.limit, row.unit, row.updated_at, row.updated_by = limit, unit, utcnow(), actor.user_id
        db.session.add(row)
        db.session.flush()
        audit("settings.sla", actor_id=actor.user_id, target=stage, detail={"from": old, "to": [limit, unit]})
        return recompute_due(states={stage})


def set_province_rule(province: str, actor: Actor, *, sms_required_from: date | None, sms_never: bool,
                      bureau_limit_days: int | None, mailing_required: bool, mailing_items: list[str],
                      mailing_address: str, consistency_required: bool,
                      required_materials: list[str] | None = None) -> int:
    if province not in PROVINCES:
        raise NotFound("省份不存在")
    if bureau_limit_days is not None and not 1 <= bureau_limit_days <= 60:
        raise Invalid("管局时限无效", fields={"bureau_limit_days": ["1–60 个工作日"]})
    items = [i.strip() for i in mailing_items if i.strip()]
    if mailing_required and not items:
        raise Invalid("请填写邮寄资料清单", fields={"mailing_items": ["需要邮寄时至少一项"]})
    with write_transaction():
        row = db.session.get(ProvinceRuleRow, province) or ProvinceRuleRow(province=province)
        row.sms_required_from, row.sms_never = sms_required_from, sms_never
        row.bureau_limit_days, row.mailing_required, row.mailing_items = bureau_limit_days, mailing_required, items
        row.mailing_address, row.consistency_required = mailing_address.strip()[:300], consistency_required
        row.required_materials = [k for k in dict.fromkeys(required_materials or []) if k in MATERIAL_KINDS]
        row.updated_at, row.updated_by = utcnow(), actor.user_id
        db.session.add(row)
        db.session.flush()
        audit("settings.province", actor_id=actor.user_id, target=province,
              detail={"sms_from": str(sms_required_from), "sms_never": sms_never, "bureau_limit": bureau_limit_days,
                      "mailing": mailing_required, "consistency": consistency_required,
                      "materials": row.required_materials})
        return recompute_due(states={State.BUREAU_REVIEW.value}, province=province)


def set_override(day: date, is_workday: bool, note: str, actor: Actor) -> int:
    with write_transaction():
        row = db.session.get(CalendarOverride, day) or CalendarOverride(day=day)
        row.is_workday, row.note = is_workday, (note or "").strip()[:200]
        row.updated_at, row.updated_by = utcnow(), actor.user_id
        db.session.add(row)
        db.session.flush()
        audit("settings.calendar", actor_id=actor.user_id, target=day.isoformat(),
              detail={"workday": is_workday, "note": row.note})
        return recompute_due()


def delete_override(day: date, actor: Actor) -> int:
    with write_transaction():
        row = db.session.get(CalendarOverride, day)
        if row is None:
            raise NotFound("该日期没有调整")
        db.session.delete(row)
        db.session.flush()
        audit("settings.calendar.delete", actor_id=actor.user_id, target=day.isoformat())
        return recompute_due()


LINE_RE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*[,，\s]\s*(休|班|off|work)\s*(.*)$")


def import_year(year: int, text: str, actor: Actor) -> int:
    """A year's official schedule: one line per date, '2027-01-01 休 元旦' or '2027-02-07 班 春节调休'.

    The year is marked official; its other days follow the weekday rule.
    """
    if not 2000 <= year <= 2100:
        raise Invalid("年份无效", fields={"year": ["年份无效"]})
    entries, errors = {}, []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = LINE_RE.match(line)
        try:
            day = date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            day = None
        if match is None or day is None:
            errors.append(f"第 {number} 行格式应为「YYYY-MM-DD 休/班 说明」")
        elif day.year != year:
            errors.append(f"第 {number} 行的日期不属于 {year} 年")
        else:
            entries[day] = (match.group(2) in {"班", "work"}, match.group(3).strip())
    if errors:
        raise Invalid("日程格式有误", fields={"schedule": errors[:10]})
    if not entries:
        raise Invalid("没有日期", fields={"schedule": ["请至少填写一行"]})
    with write_transaction():
        for day, (working, note) in entries.items():
            row = db.session.get(CalendarOverride, day) or CalendarOverride(day=day)
            row.is_workday, row.note, row.updated_at, row.updated_by = working, note[:200], utcnow(), actor.user_id
            db.session.add(row)
        if db.session.get(CalendarYear, year) is None:
            db.session.add(CalendarYear(year=year, entered_at=utcnow(), entered_by=actor.user_id))
        db.session.flush()
        audit("settings.calendar.year", actor_id=actor.user_id, target=str(year), detail={"dates": len(entries)})
        return recompute_due()


def save_reason(code: str, label: str, active: bool, actor: Actor) -> None:
    code, label = (code or "").strip(), (label or "").strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code):
        raise Invalid("代码无效", fields={"code": ["小写字母开头，只含小写字母、数字和 _，2–40 位"]})
    if not label or len(label) > 100:
        raise Invalid("名称无效", fields={"label": ["必填，最长 100 字"]})
    with write_transaction():
        row = db.session.get(RejectionReason, code) or RejectionReason(code=code)
        row.label, row.active, row.updated_at, row.updated_by = label, active, utcnow(), actor.user_id
        db.session.add(row)
        audit("settings.reason", actor_id=actor.user_id, target=code, detail={"label": label, "active": active})


def calendar_years(around: int) -> list[dict]:
    """The year before ``around`` and the two after: whether each is official, and from where."""
    entered = set(db.session.scalars(select(CalendarYear.year).where(CalendarYear.year.between(around - 1,
                                                                                               around + 2))))
    years = []
    for year in range(around - 1, around + 3):
        source = "chinese-calendar" if package_has_year(year) else ("主管录入" if year in entered else "预估")
        years.append({"year": year, "official": source != "预估", "source": source})
    return years


def recent_overrides(limit: int = 200) -> list[CalendarOverride]:
    """Dates adjusted by supervisors, latest first."""
    return list(db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day.desc()).limit(limit)))


def open_timed_count() -> int:
    """Open orders whose deadlines a calendar or rule change recomputes (the open-work counters)."""
    timed = {s.value for s in TIMED_STATES}
    return sum(n for _queue, state, _assignee, n in workcounts.open_counts() if state in timed)


def set_material_rule(subject_type: str, kinds: list[str], actor: Actor) -> None:
    """Which material kinds one kind of subject must upload (checked at the next check run)."""
    if subject_type not in SUBJECT_TYPES:
        raise NotFound("主办单位性质不存在")
    unknown = [k for k in kinds if k not in MATERIAL_KINDS]
    if unknown:
        raise Invalid("资料类型无效", fields={"kinds": ["未知的资料类型：" + "、".join(unknown)]})
    with write_transaction():
        row = db.session.get(MaterialRuleRow, subject_type) or MaterialRuleRow(subject_type=subject_type)
        old = list(row.kinds or [])
        row.kinds, row.updated_at, row.updated_by = sorted(set(kinds)), utcnow(), actor.user_id
        db.session.add(row)
        audit("settings.materials", actor_id=actor.user_id, target=subject_type, detail={"from": old, "to": row.kinds})
