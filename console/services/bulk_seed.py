"""Volume for demos and benchmarks: N orders in the realistic mix (most finished, a few percent
open, some overdue), written straight to the tables in chunks, COPY on PostgreSQL and one
executemany per table and chunk on SQLite; orders, their domains and a short history each.

This is the bulk path of ``icp-console seed`` (large counts) and of ``bench/run.py``: rows are
made in Python from the same rules the app uses for deadlines, not through the use cases (which
cost ~28 ms an order). Findings are not computed; the first few hundred orders of a demo come from
``console.services.demo`` for that.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from console.domain.provinces import PROVINCES
from console.domain.workflow import QUEUE_OF, State, queue_of
from console.extensions import db
from console.models import Order, OrderDomain, OrderEvent
from console.services import workcounts
from console.services.order_writes import deadline_values
from console.services.rules import load_rules

#: (state, share): most orders are finished; a few percent are open.
MIX = [(State.APPROVED, 0.80), (State.ABANDONED, 0.04), (State.REVOKED, 0.02), (State.BUREAU_REJECTED, 0.02),
       (State.RETURNED, 0.03), (State.INITIAL_REVIEW, 0.015), (State.AWAITING_MAIL, 0.005), (State.MAIL_CHECK, 0.002),
       (State.SMS_VERIFICATION, 0.008), (State.BUREAU_REVIEW, 0.06)]
WORDS = ["云栈", "星河", "蓝海", "青禾", "远航", "拓维", "睿思", "博远", "嘉禾", "恒信", "天成", "优创"]
PINYIN = ["yunzhan", "xinghe", "lanhai", "qinghe", "yuanhang", "tuowei", "ruisi", "boyuan", "jiahe", "hengxin",
          "tiancheng", "youchuang"]
CHUNK = 20_000
_NO_DEADLINE = {"due_at": None, "due_estimated": False, "due_soon_at": None, "next_alert_at": None}
_JSON_COLUMNS = {"findings", "original_filing", "reasons", "changes"}


def _copy(table, rows: list[dict]) -> None:
    """Rows into ``table``: COPY on PostgreSQL (an order of magnitude faster), else executemany."""
    if not rows:
        return
    if db.engine.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c], ensure_ascii=False) if c in _JSON_COLUMNS else row[c]
                            for c in columns])


def seed_bulk(count: int, *, rng: random.Random | None = None, now: datetime | None = None,
              progress: Callable[[int], None] | None = None, order_prefix: str = "JB") -> dict[str, int]:
    """Insert ``count`` orders after the existing ones; returns how many are in each state."""
    rng = rng or random.Random()
    now = now or datetime.now(UTC)
    rules = load_rules()
    provinces = list(PROVINCES)
    states = [m[0] for m in MIX]
    weights = [m[1] for m in MIX]
    first_id = (db.session.scalar(select(func.max(Order.id))) or 0) + 1
    tally: dict[str, int] = {}
    deadlines: dict[tuple, dict] = {}
    next_id = first_id
    for start in range(0, count, CHUNK):
        orders, domains, events = [], [], []
        for state in rng.choices(states, weights, k=min(CHUNK, count - start)):
            i = next_id
            province = rng.choice(provinces)
            open_state = state.value in QUEUE_OF
            entered = now - timedelta(hours=rng.uniform(0.5, 70) if open_state else rng.uniform(24, 24 * 365))
            if open_state:
                key = (state.value, province, entered.date(), entered.hour)
                if key not in deadlines:
                    deadlines[key] = deadline_values(province, state, entered, rules)
                timing = deadlines[key]
            else:
                timing = _NO_DEADLINE
            word = rng.randrange(len(WORDS))
            domain = f"{PINYIN[word]}{i}.cn"
            prefix = PROVINCES[province].icp_prefix
            finished = state in (State.APPROVED,)
            orders.append({
                "id": i, "order_no": f"{order_prefix}{i:010d}", "kind": "new_access", "state": state.value,
                "queue": queue_of(state.value), "province": province, "version": 3, "submitted_at": entered,
                "first_submitted_at": entered, "created_at": entered, "updated_at": entered,
                "stage_entered_at": entered, **timing, "assignee_id": None, "intake_hash": "x" * 64,
                "submission_hash": "x" * 64, "submission_round": 1, "mailing_required": False,
                "error_count": rng.choice([0, 0, 0, 1, 2]), "warning_count": rng.choice([0, 0, 1]), "findings": [],
                "mail_round": 0, "courier": "", "tracking_no": "", "sms_resends": 0,
                "closed_at": entered + timedelta(hours=2) if not open_state else None,
                "result_filing_number": f"{prefix}ICP备{10000000 + i}号-1" if finished else None,
                "subject_type": "enterprise", "subject_name": f"{WORDS[word]}科技有限公司{i}",
                "subject_cert_type": "uscc", "subject_cert_number": f"9133{i:014d}",
                "cert_province": province, "cert_city": "", "cert_district": "", "cert_detail": "某路1号",
                "mail_province": province, "mail_city": "", "mail_district": "", "mail_detail": "某路1号",
                "address_remark": "", "subject_filing_number": f"{prefix}ICP备{10000000 + i}号",
                "website_name": f"{WORDS[word]}官网{i % 1000}", "website_filing_number": f"{prefix}ICP备{10000000 + i}号-1",
                "previous_provider": "", "main_domain": domain, "principal_name": "张伟",
                "principal_id_type": "resident_id", "principal_id_number": f"3301061990{i % 100000000:08d}",
                "principal_mobile": f"138{i % 100000000:08d}", "principal_mobile2": "",
                "principal_email": f"user{i}@{domain}", "principal_emergency_phone": "", "product_instance_id": "",
                "product_region": "", "product_public_ip": "", "product_verified": True,
                "filing_password_verified": True, "identity_verified": True, "original_filing": {},
                "event_seq": 0,
            })
            domains.append({"order_id": i, "position": 0, "domain": domain})
            events.append({"order_id": i, "at": entered, "actor_id": None, "actor_label": "portal:bulk",
                           "action": "submit", "from_state": None, "to_state": "initial_review", "reasons": [],
                           "note": "", "changes": {}})
            if not open_state:
                events.append({"order_id": i, "at": entered + timedelta(hours=2), "actor_id": None,
                               "actor_label": "bulk", "action": "bureau_approve", "from_state": "bureau_review",
                               "to_state": state.value, "reasons": [], "note": "", "changes": {}})
            tally[state.value] = tally.get(state.value, 0) + 1
            next_id += 1
        _copy(Order, orders)
        _copy(OrderDomain, domains)
        _copy(OrderEvent, events)
        db.session.commit()
        if progress:
            progress(len(orders))
    workcounts.compact()  # the triggers wrote a +1 per open order: fold them to one row per key
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # the ids were given: the sequence moves past them
        db.session.execute(text("SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))"))
        db.session.commit()
        # What autovacuum would do soon after a load this size: statistics for the planner and the
        # visibility map, without which the counts' index-only scans read the heap (10× slower).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) orders, order_domains, order_events, work_count_deltas"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return tally
