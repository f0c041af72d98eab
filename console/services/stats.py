"""Statistics for supervisors: intake and decisions per day, backlog by age, SLA breaches, reasons."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import Date as SqlDate

from console.database import is_postgres, write_transaction
from console.domain.calendar import local_midnight, to_local, utcnow
from console.domain.workflow import DECISIONS, TIMED_STATES, WORKED_STATES, State
from console.extensions import db
from console.models import Alert, Order, OrderEvent, Snapshot
from console.services.csvout import csv_bytes
from console.services.reasons import labels

AGE_BUCKETS = [("<1 天", 1), ("1–3 天", 3), ("3–7 天", 7), ("7–14 天", 14), ("≥14 天", None)]


def _local_day(column):
    """The Asia/Shanghai calendar day of a UTC timestamp column, in SQL (SQLite or PostgreSQL)."""
    if db.engine.dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", column), SqlDate)
    return func.date(column, literal("+8 hours"))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _empty_day() -> dict:
    return {"intake": 0, "decisions": 0, "entries": {}, "reasons": {}}


def _day_details(since: datetime) -> dict[str, dict]:
    """Per local day from ``since``: intake, decisions, entries into each timed state, and
    rejection reasons — what the 30-day statistics sum. Keys are ISO dates (they travel in JSON)."""
    day = _local_day(OrderEvent.at)
    details: dict[str, dict] = {}

    def slot(value) -> dict:
        return details.setdefault(_as_date(value).isoformat(), _empty_day())

    for d, intake, decided in db.session.execute(
            select(day, func.sum(case((OrderEvent.action == "submit", 1), else_=0)),
                   func.sum(case((OrderEvent.action.in_(DECISIONS), 1), else_=0)))
            .where(OrderEvent.at >= since, OrderEvent.action.in_(("submit", *DECISIONS))).group_by(day)):
        slot(d).update(intake=int(intake or 0), decisions=int(decided or 0))
    for d, state, n in db.session.execute(
            select(day, OrderEvent.to_state, func.count())
            .where(OrderEvent.at >= since, OrderEvent.to_state.in_([s.value for s in TIMED_STATES]))
            .group_by(day, OrderEvent.to_state)):
        slot(d)["entries"][state] = int(n)
    for d, reasons in db.session.execute(
            select(day, OrderEvent.reasons).where(OrderEvent.at >= since,
                                                  OrderEvent.action.in_(("reject", "mail_fail", "bureau_reject")))):
        counts = slot(d)["reasons"]
        for code in reasons or []:
            counts[code] = counts.get(code, 0) + 1
    return details


def statistics(*, days: int = 30, now: datetime | None = None, previous: dict | None = None) -> dict:
    """The 30-day statistics. With ``previous`` (the last snapshot's data) the per-day figures of
    days that had ended two days before it was computed are reused, so a refresh reads two days
    of history instead of thirty — unless an event was since recorded with an earlier time (then
    everything is read again). History is append-only, so a day that has ended does not change."""
    now = now or utcnow()
    today = to_local(now).date()
    first = today - timedelta(days=days - 1)
    watermark = db.session.scalar(select(func.max(OrderEvent.id))) or 0
    reused: dict[str, dict] = {}
    read_from = first
    if previous and isinstance(previous.get("detail"), dict) and isinstance(previous.get("watermark"), int):
        # yesterday is read again too: a transaction that began before midnight may commit after
        settled = min(date.fromisoformat(previous["today"]), today) - timedelta(days=1)
        late = db.session.scalar(select(OrderEvent.id).where(OrderEvent.id > previous["watermark"],
                                                             OrderEvent.at < local_midnight(settled)).limit(1))
        if late is None and settled > first:
            reused = {d: v for d, v in previous["detail"].items() if first.isoformat() <= d < settled.isoformat()}
            read_from = settled
    detail = {**reused, **_day_details(local_midnight(read_from))}
    empty = _empty_day()
    series = []
    for k in range(days):
        d = first + timedelta(days=k)
        figures = detail.get(d.isoformat(), empty)
        series.append({"day": d, "intake": figures["intake"], "decisions": figures["decisions"]})

    age_case = case(*[(Order.stage_entered_at > now - timedelta(days=limit), label)
                      for label, limit in AGE_BUCKETS if limit], else_=AGE_BUCKETS[-1][0])
    # ``queue IS NOT NULL`` (the same orders: an order has a queue exactly while it is in a worked
    # state) lets PostgreSQL read ix_orders_open_age alone instead of the open orders' rows.
    backlog_rows = dict(db.session.execute(
        select(age_case, func.count()).where(Order.queue.is_not(None),
                                             Order.state.in_([s.value for s in WORKED_STATES]))
        .group_by(age_case)).all())
    backlog = [{"label": label, "count": int(backlog_rows.get(label, 0))} for label, _ in AGE_BUCKETS]

    entries: Counter = Counter()
    counter: Counter = Counter()
    for figures in detail.values():
        entries.update(figures["entries"])
        counter.update(figures["reasons"])
    since = local_midnight(first)
    breaches = dict(db.session.execute(
        select(Alert.state, func.count()).where(Alert.stage_entered_at >= since,
                                                Alert.kind.in_(("overdue", "bureau_overdue")))
        .group_by(Alert.state)).all())
    sla = [{"state": s.value, "label": s.label, "entries": int(entries.get(s.value, 0)),
            "breaches": int(breaches.get(s.value, 0)),
            "rate": (breaches.get(s.value, 0) / entries[s.value]) if entries.get(s.value) else None}
           for s in TIMED_STATES if s != State.SMS_VERIFICATION]
    sla.sort(key=lambda r: list(State).index(State(r["state"])))

    top = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:8]
    reasons = [{"code": code, "label": label, "count": n} for (code, n), label in zip(top, labels([c for c, _ in top]),
                                                                                         strict=True)]
    return {"days": series, "backlog": backlog, "sla": sla, "reasons": reasons, "since": first, "today": today,
            "detail": {d: v for d, v in detail.items() if d >= first.isoformat()}, "watermark": watermark}


def statistics_csv(data: dict) -> bytes:
    """The numbers behind the charts, one table: 类别, 项目, and two figures whose meaning the row says."""
    rows = [["每日", d["day"], d["intake"], d["decisions"], "新提交 / 已处理"] for d in data["days"]]
    rows += [["积压", b["label"], b["count"], "", "订单数"] for b in data["backlog"]]
    rows += [["时限", State(s["state"]).label, s["entries"], s["breaches"], "进入环节 / 超时"] for s in data["sla"]]
    rows += [["驳回原因", r["label"], r["count"], "", "次数"] for r in data["reasons"]]
    return csv_bytes(["类别", "项目", "数值一", "数值二", "说明"], rows)


# --- the rollup the board reads -------------------------------------------------------------

SNAPSHOT = "statistics"
#: How old the statistics may be when read. The sweep (every minute by default) refreshes them, so
#: a reader computes them itself only when the jobs process is not running.
MAX_AGE = timedelta(minutes=5)


def _encode(data: dict) -> dict:
    return {**data, "days": [{**d, "day": d["day"].isoformat()} for d in data["days"]],
            "since": data["since"].isoformat(), "today": data["today"].isoformat()}


def _decode(data: dict) -> dict:
    return {**data, "days": [{**d, "day": date.fromisoformat(d["day"])} for d in data["days"]],
            "since": date.fromisoformat(data["since"]), "today": date.fromisoformat(data["today"])}


def refresh_snapshot(*, now: datetime | None = None) -> dict:
    """Compute the 30-day statistics and keep them (one row, upserted), from the last snapshot's
    per-day figures where they still hold (see ``statistics``)."""
    now = now or utcnow()
    row = db.session.get(Snapshot, SNAPSHOT)
    data = statistics(now=now, previous=row.data if row is not None and isinstance(row.data, dict) else None)
    # One upsert: two sweeps (or a sweep and a reader) may refresh it at the same moment.
    insert = pg_insert if is_postgres() else sqlite_insert
    stmt = insert(Snapshot).values(name=SNAPSHOT, computed_at=now, data=_encode(data))
    with write_transaction():
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=["name"], set_={"computed_at": stmt.excluded.computed_at, "data": stmt.excluded.data}))
    return {**data, "computed_at": now}


def current_statistics(*, now: datetime | None = None) -> dict:
    """The statistics as last computed (at most MAX_AGE old, and of today's local day), else fresh.
    A 30-day rollup read in one row: the board and the CSV cost the same at any table size."""
    now = now or utcnow()
    row = db.session.get(Snapshot, SNAPSHOT)
    if row is not None and now - row.computed_at <= MAX_AGE and row.data.get("today") == to_local(now).date().isoformat():
        return {**_decode(row.data), "computed_at": row.computed_at}
    return refresh_snapshot(now=now)
