"""Throughput under gunicorn: python bench/throughput.py --database URL [--orders 200000] [--seconds 15].

Seeds N orders (the bench's bulk path and mix) into the PostgreSQL database named, starts the
production recipe (``gunicorn -c gunicorn.conf.py``, production mode, 4 workers) on the app plus
the bench's baseline route (``bench/wsgi_baseline.py``: the same 50 rows by one hand-written query
and a minimal template, same sign-in and session checks), and drives both with the same number of
concurrent keep-alive clients, alternating (baseline, page, baseline, page) so that both see the
same machine. Prints requests per second of each and their ratio. The clients share the 2 cores
with the server: the ratio is the figure, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.run import PASSWORD, fresh_database, seed  # noqa: E402
from console import create_app  # noqa: E402
from console.extensions import db  # noqa: E402
from tests.test_gunicorn import free_port  # noqa: E402


def sign_in(port: int) -> str:
    """The session cookie of the bench's specialist (cookies by hand: production marks them Secure)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": "spec", "password": PASSWORD, "csrf_token": token})
    connection.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = connection.getresponse()
    response.read()
    assert response.status == 302, response.status
    return response.getheader("Set-Cookie").split(";", 1)[0]


def drive(port: int, cookie: str, path: str, seconds: float, clients: int) -> dict:
    """``clients`` keep-alive connections asking ``path`` for ``seconds``: requests per second."""
    done, errors, stop = [0] * clients, [0] * clients, time.monotonic() + seconds

    def client(i: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                done[i] += 1
            else:
                errors[i] += 1
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {"rps": round(sum(done) / elapsed, 1), "errors": sum(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="PostgreSQL URL (its public schema is re-created)")
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of baseline and page")
    parser.add_argument("--json", default=None)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database as it is (seeded by an earlier run of this script)")
    args = parser.parse_args()
    url = fresh_database(args.database)
    app = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    if args.reuse:
        with app.app_context():
            args.orders = db.session.scalar(text("SELECT count(*) FROM orders"))
    else:
        with app.app_context():
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
            upgrade(directory=app.extensions["migrate"].directory)
        seed(app, args.orders, random.Random(7))
    with app.app_context():
        db.engine.dispose()
    port = free_port()
    metrics = tempfile.mkdtemp(prefix="icp-throughput-")
    env = {**os.environ, "CONSOLE_DATABASE_URL": url, "CONSOLE_MODE": "production",
           "CONSOLE_SECRET_KEY": secrets.token_urlsafe(48), "CONSOLE_BIND": f"127.0.0.1:{port}",
           "CONSOLE_WORKERS": str(args.workers), "CONSOLE_THREADS": "4", "CONSOLE_MAX_IN_FLIGHT": "4",
           "CONSOLE_LOG_LEVEL": "warning", "PROMETHEUS_MULTIPROC_DIR": metrics}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "bench.wsgi_baseline:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        cookie = sign_in(port)
        for path in ("/bench/baseline", "/queues/initial-review"):  # warm every worker
            drive(port, cookie, path, 3, args.clients)
        runs = {"baseline": [], "page": []}
        for _ in range(args.rounds):
            runs["baseline"].append(drive(port, cookie, "/bench/baseline", args.seconds, args.clients))
            runs["page"].append(drive(port, cookie, "/queues/initial-review", args.seconds, args.clients))
    finally:
        server.terminate()
        server.wait(timeout=30)
    baseline = sum(r["rps"] for r in runs["baseline"]) / args.rounds
    page = sum(r["rps"] for r in runs["page"]) / args.rounds
    # each page run against the baseline run just before it: how much the machine moved meanwhile
    pairs = sorted(p["rps"] / b["rps"] for b, p in zip(runs["baseline"], runs["page"], strict=True))
    result = {"orders": args.orders, "workers": args.workers, "clients": args.clients, "seconds": args.seconds,
              "baseline_rps": round(baseline, 1), "page_rps": round(page, 1), "ratio": round(page / baseline, 3),
              "pair_ratios": [round(r, 3) for r in pairs], "median_pair_ratio": round(statistics.median(pairs), 3),
              "runs": runs}
    print(json.dumps(result, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
