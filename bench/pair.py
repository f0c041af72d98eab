"""Two seeded bench databases measured in one run, interleaved: python bench/pair.py SMALL_URL LARGE_URL.

``bench/run.py --compare`` sets two separate runs side by side, and on this shared machine the
machine itself drifts between them. This asks the same figures of both databases (seeded by
earlier ``bench/run.py`` runs, e.g. at 100,000 and 1,000,000 orders) in alternating blocks of ten
requests, so that both see the same machine, and prints p50 / p95 of each and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import login, percentile
from console import create_app

HTMX = {"HX-Request": "true"}
FIGURES = {
    "queue page, full": lambda boss, spec: spec.get("/queues/initial-review"),
    "nav counts (polled)": lambda boss, spec: spec.get("/queues/counts", headers=HTMX),
    "alert badge (polled)": lambda boss, spec: spec.get("/alerts/badge", headers=HTMX),
    "supervisors' board": lambda boss, spec: boss.get("/supervisor", headers=HTMX),
    "statistics CSV": lambda boss, spec: boss.get("/supervisor/stats.csv"),
    "/readyz": lambda boss, spec: spec.get("/readyz"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("small")
    parser.add_argument("large")
    parser.add_argument("--rounds", type=int, default=6, help="blocks of ten requests per database and figure")
    args = parser.parse_args()
    clients = {}
    for name, url in (("small", args.small), ("large", args.large)):
        app = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "WTF_CSRF_ENABLED": True})
        boss, spec = app.test_client(), app.test_client()
        login(boss, "boss")
        login(spec)
        clients[name] = (boss, spec)
    print(f"{'figure':24} {'small p50 / p95':>18} {'large p50 / p95':>18} {'p50 ratio':>10} {'p95 ratio':>10}")
    for figure, ask in FIGURES.items():
        samples: dict[str, list[float]] = {name: [] for name in clients}
        for boss, spec in clients.values():
            for _ in range(5):
                ask(boss, spec)
        for _ in range(args.rounds):
            for name, (boss, spec) in clients.items():
                for _ in range(10):
                    started = time.perf_counter()
                    assert ask(boss, spec).status_code == 200
                    samples[name].append((time.perf_counter() - started) * 1000)
        small, large = samples["small"], samples["large"]
        p50 = (statistics.median(small), statistics.median(large))
        p95 = (percentile(small, 95), percentile(large, 95))
        print(f"{figure:24} {p50[0]:8.2f} / {p95[0]:7.2f} {p50[1]:8.2f} / {p95[1]:7.2f} "
              f"{p50[1] / p50[0]:9.2f}× {p95[1] / p95[0]:9.2f}×")


if __name__ == "__main__":
    main()
