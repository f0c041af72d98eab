"""Webhook delivery, measured: python bench/webhooks.py [--events 10000] [--database URL] [--json out.json].

Queues N outbox events (one per order, N orders, through the real write path's bulk cousin: rows
inserted in chunks) on a fresh migrated database, registers one endpoint pointing at a real HTTP
receiver on 127.0.0.1 (a threaded server, as the tests use), and times ``deliver_pending`` from the
first fan-out until every event is delivered. The receiver answers 200 at once, so the figure is
the console's own cost: fan-out, batching, signing, POSTs over loopback, settling.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from bench.run import fresh_database
from console import create_app
from console.domain.workflow import queue_of
from console.extensions import db
from console.models import Order, OutboxEvent, WebhookDelivery
from console.services import webhooks
from console.services.order_writes import deadline_values
from console.services.rules import load_rules
from tests.receiver import Receiver


def order_row(order_no: str, state: str, now: datetime, deadlines: dict, **changes) -> dict:
    """A minimal valid order row for the benches that insert orders straight into the table
    (this one and bench/imports.py); ``changes`` override any column."""
    return {"order_no": order_no, "kind": "new_access", "state": state, "queue": queue_of(state), "province": "浙江",
            "version": 1, "submitted_at": now, "first_submitted_at": now, "created_at": now, "updated_at": now,
            "stage_entered_at": now, **deadlines, "intake_hash": "x" * 64, "submission_hash": "x" * 64,
            "submission_round": 1, "subject_type": "enterprise", "subject_name": "杭州云栈科技有限公司",
            "subject_cert_type": "uscc", "subject_cert_number": "91330106MA2B3C4D5D", "cert_province": "浙江",
            "cert_detail": "文三路90号", "mail_province": "浙江", "mail_detail": "文三路90号",
            "website_name": "云栈科技官网", "principal_name": "张伟", "principal_id_type": "resident_id",
            "principal_id_number": "330106199003071236", "principal_mobile": "13800138000", "findings": [],
            "original_filing": {}, "event_seq": 0, **changes}


def queue_events(app, count: int) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        values = deadline_values("浙江", "initial_review", now, load_rules())
        for start in range(0, count, 2000):
            rows = [order_row(f"WH{i:09d}", "initial_review", now, values, event_seq=1)
                    for i in range(start, min(count, start + 2000))]
            ids = db.session.execute(insert(Order).returning(Order.id, Order.order_no), rows).all()
            db.session.execute(insert(OutboxEvent), [
                {"order_id": oid, "order_no": no, "sequence": 1, "type": "order.submitted", "at": now,
                 "data": {"state": "initial_review", "text": f"您的接入备案订单 {no} 已提交。"}} for oid, no in ids])
            db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    url = fresh_database(args.database)
    app = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "STATEMENT_TIMEOUT_MS": 0})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade(directory=app.extensions["migrate"].directory)
    queue_events(app, args.events)
    with Receiver() as receiver, app.app_context():
        webhooks.create_endpoint(receiver.url, [], actor_id=None)
        from console.models import WebhookEndpoint

        db.session.execute(WebhookEndpoint.__table__.update().values(fanned_out_to=0))  # the queued events too
        db.session.commit()
        started = time.perf_counter()
        ticks = 0
        while True:
            ticks += 1
            webhooks.deliver_pending()
            pending = db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                        .where(WebhookDelivery.status != "delivered"))
            waiting = db.session.scalar(select(func.count()).select_from(OutboxEvent)) - \
                db.session.scalar(select(func.count()).select_from(WebhookDelivery))
            if not pending and not waiting:
                break
        seconds = time.perf_counter() - started
        received = len(set(receiver.ids()))
    figures = {"events": args.events, "database": url.split(":")[0].split("+")[0],
               "seconds": round(seconds, 2), "per_second": round(args.events / seconds, 1), "ticks": ticks,
               "received_distinct": received, "received_total": len(receiver.received)}
    print(json.dumps(figures, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
