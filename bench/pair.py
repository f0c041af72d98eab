"""Two seeded bench databases measured in one run, interleaved: python bench/pair.py SMALL_URL LARGE_URL.

``bench/run.py --compare`` sets two separate runs side by side, and on this shared machine the
machine itself drifts between them. This asks the same figures of both databases (seeded by
earlier ``bench/run.py`` runs, e.g. at 100,000 and 1,000,000 orders) in alternating blocks of ten
requests, so that both see the same machine, and prints p50 / p95 of each and their ratio.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.run import login, percentile
from console import create_app
from console.extensions import db
from console.models import Order

HTMX = {"HX-Request": "true"}
#: figure -> what to ask, given the database's supervisor, specialist and a closed order's values
FIGURES = {
    "queue page, full": lambda boss, spec, o: spec.get("/queues/initial-review"),
    "mailing queue": lambda boss, spec, o: spec.get("/queues/mailing"),
    "bureau queue": lambda boss, spec, o: spec.get("/queues/bureau"),
    "nav counts (polled)": lambda boss, spec, o: spec.get("/queues/counts", headers=HTMX),
    "/metrics scrape": lambda boss, spec, o: spec.get("/metrics"),
    "alert badge (polled)": lambda boss, spec, o: spec.get("/alerts/badge", headers=HTMX),
    "alerts page": lambda boss, spec, o: boss.get("/alerts"),
    "supervisors' board": lambda boss, spec, o: boss.get("/supervisor", headers=HTMX),
    "statistics CSV": lambda boss, spec, o: boss.get("/supervisor/stats.csv"),
    "workspace (closed order)": lambda boss, spec, o: spec.get(f"/orders/{o.order_no}"),
    "search: order number": lambda boss, spec, o: spec.get(f"/search?q={o.order_no}", headers=HTMX),
    "search: phone": lambda boss, spec, o: spec.get(f"/search?q={o.principal_mobile}", headers=HTMX),
    "search: domain": lambda boss, spec, o: spec.get(f"/search?q={o.main_domain}", headers=HTMX),
    "search: certificate no.": lambda boss, spec, o: spec.get(f"/search?q={o.subject_cert_number}", headers=HTMX),
    "search: filing number": lambda boss, spec, o: spec.get(f"/search?q={o.website_filing_number}", headers=HTMX),
    "search: name fragment": lambda boss, spec, o: spec.get(f"/search?q={o.subject_name[-8:]}", headers=HTMX),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("small")
    parser.add_argument("large")
    parser.add_argument("--rounds", type=int, default=6, help="blocks of ten requests per database and figure")
    parser.add_argument("--only", default="", help="the figures whose name contains this")
    args = parser.parse_args()
    clients = {}
    for name, url in (("small", args.small), ("large", args.large)):
        app = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "WTF_CSRF_ENABLED": True})
        boss, spec = app.test_client(), app.test_client()
        login(boss, "boss")
        login(spec)
        with app.app_context():  # a closed order, as an applicant would read it out (as bench/run.py)
            found = db.session.execute(select(Order.order_no, Order.principal_mobile, Order.main_domain,
                                              Order.subject_cert_number, Order.website_filing_number,
                                              Order.subject_name)
                                       .where(Order.state == "approved").order_by(Order.id.desc()).limit(1)).one()
        clients[name] = (boss, spec, found)
    gc.collect()  # as wsgi.py does in production (see there)
    gc.freeze()
    print(f"{'figure':26} {'small p50 / p95':>18} {'large p50 / p95':>18} {'p50 ratio':>10} {'p95 ratio':>10}")
    for figure, ask in FIGURES.items():
        if args.only not in figure:
            continue
        samples: dict[str, list[float]] = {name: [] for name in clients}
        for boss, spec, found in clients.values():
            for _ in range(5):
                ask(boss, spec, found)
        for _ in range(args.rounds):
            for name, (boss, spec, found) in clients.items():
                for _ in range(10):
                    started = time.perf_counter()
                    assert ask(boss, spec, found).status_code == 200
                    samples[name].append((time.perf_counter() - started) * 1000)
        small, large = samples["small"], samples["large"]
        p50 = (statistics.median(small), statistics.median(large))
        p95 = (percentile(small, 95), percentile(large, 95))
        print(f"{figure:26} {p50[0]:8.2f} / {p95[0]:7.2f} {p50[1]:8.2f} / {p95[1]:7.2f} "
              f"{p50[1] / p50[0]:9.2f}× {p95[1] / p95[0]:9.2f}×")


if __name__ == "__main__":
    main()
