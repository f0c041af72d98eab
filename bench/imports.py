"""Bureau results import, measured: python bench/imports.py [--rows 10000] [--database URL] [--json out.json].

Puts N orders in 管局审核中 on a fresh migrated database (rows inserted in chunks, as the webhook
bench does), writes a results file approving all of them, and times what a supervisor waits for:
the preview (parse and judge every row; with the memory it adds), the preview page (bytes), a
progress poll, and the jobs process applying every row (``imports.apply_pending`` until done).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from bench.run import PASSWORD, fresh_database, login, percentile
from bench.webhooks import order_row
from console import create_app
from console.extensions import db
from console.models import Order, User
from console.services import accounts, imports
from console.services.actors import Actor
from console.services.order_writes import deadline_values
from console.services.rules import load_rules


def bureau_orders(app, count: int) -> list[tuple[str, str]]:
    now = datetime.now(UTC)
    made = []
    with app.app_context():
        values = deadline_values("浙江", "bureau_review", now, load_rules())
        for start in range(0, count, 2000):
            rows = [order_row(f"IM{i:09d}", "bureau_review", now, values, version=3,
                              subject_cert_number=f"9133010600{i:08d}",  # one subject per order, as in life
                              subject_filing_number=f"浙ICP备{20000000 + i}号",
                              website_filing_number=f"浙ICP备{20000000 + i}号-1")
                    for i in range(start, min(count, start + 2000))]
            db.session.execute(insert(Order), rows)
            db.session.commit()
            made += [(r["order_no"], r["website_filing_number"]) for r in rows]
    return made


def results_file(orders: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["订单号", "结果", "备案号", "原因"], *([no, "通过", number, ""] for no, number in orders)])
    return out.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
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
        accounts.create_user("boss", PASSWORD, "supervisor", display_name="主管")
    data = results_file(bureau_orders(app, args.rows))
    results: dict = {"rows": args.rows, "database": url.split(":")[0], "file_bytes": len(data)}
    with app.app_context():
        boss = Actor.for_user(db.session.scalar(select(User).where(User.username == "boss")))
        tracemalloc.start()
        started = time.perf_counter()
        batch = imports.preview("results.csv", data, boss)
        results["preview_seconds"] = round(time.perf_counter() - started, 2)
        results["preview_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
        batch_id = batch.id
    client = app.test_client()
    login(client, "boss")
    page = client.get(f"/bureau/imports/{batch_id}")
    assert page.status_code == 200, page.status_code
    results["preview_page_bytes"] = len(page.get_data())
    with app.app_context():
        imports.queue_apply(batch_id, boss)
    polls = []
    for _ in range(30):
        started = time.perf_counter()
        client.get(f"/bureau/imports/{batch_id}/progress", headers={"HX-Request": "true"})
        polls.append((time.perf_counter() - started) * 1000)
    results["poll_ms_p50"], results["poll_ms_p95"] = round(percentile(polls, 50), 2), round(percentile(polls, 95), 2)
    started = time.perf_counter()
    with app.app_context():
        while not imports.apply_pending().get("finished", True):
            pass
        results["apply_seconds"] = round(time.perf_counter() - started, 2)
        batch = imports.get_import(batch_id)
        results["applied"], results["failed"] = batch.applied, batch.failed
        results["approved_orders"] = db.session.scalar(select(func.count()).select_from(Order)
                                                       .where(Order.state == "approved"))
    print(json.dumps(results, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
