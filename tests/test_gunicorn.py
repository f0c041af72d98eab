"""The production recipe, run for real: gunicorn with the repository's gunicorn.conf.py and wsgi:app
in production mode against the suite's database (PostgreSQL in CI's second run)."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, csrf_from

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn -c gunicorn.conf.py wsgi:app, as the README's production section runs it."""

    def __init__(self, database_url: str, tmp_path: Path, **env: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "gunicorn.log"
        self.env = {**os.environ, "CONSOLE_DATABASE_URL": database_url, "CONSOLE_MODE": "production",
                    "CONSOLE_SECRET_KEY": secrets.token_urlsafe(48), "CONSOLE_BIND": f"127.0.0.1:{self.port}",
                    "CONSOLE_WORKERS": "2", "CONSOLE_THREADS": "4",
                    "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), **env}
        self.env.pop("CONSOLE_MAX_IN_FLIGHT", None)

    def __enter__(self):
        (Path(self.env["PROMETHEUS_MULTIPROC_DIR"])).mkdir(exist_ok=True)
        self.out = self.log.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                        cwd=ROOT, env=self.env, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(self.base + "/healthz", timeout=2).status == 200:  # noqa: S310
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        pytest.fail("gunicorn did not start:\n" + self.log.read_text()[-3000:])

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        return self.process.returncode

    def __exit__(self, *exc):
        self.stop()
        self.out.close()


class Client:
    """Just enough of a browser over plain HTTP: cookies kept by hand (production marks them Secure)."""

    def __init__(self, base: str):
        self.base, self.cookies = base, {}

    def request(self, path: str, data: dict | None = None, timeout: float = 10) -> tuple[int, str, dict]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)  # noqa: S310
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(req, timeout=timeout)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_gunicorn_serves_the_console_signs_in_loads_a_queue_and_stops_cleanly(app, users, database_url, tmp_path):
    with Server(database_url, tmp_path) as server:
        browser = Client(server.base)
        status, page, _ = browser.request("/login")
        assert status == 200
        status, _, headers = browser.request("/login", {"username": "alice", "password": PASSWORD,
                                                        "csrf_token": csrf_from(page)})
        assert status == 302, status
        status, page, headers = browser.request("/queues/initial-review", timeout=20)
        assert status == 200 and "初审" in page
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
        for _ in range(6):  # spread over both workers
            Client(server.base).request("/healthz")
        status, metrics, _ = Client(server.base).request("/metrics")
        assert status == 200
        served = re.search(r'console_http_responses_total\{endpoint="health.healthz",status="200"\} ([0-9.]+)',
                           metrics)
        assert served and float(served.group(1)) >= 6  # counted across workers
        assert "console_queue_orders" in metrics
        assert server.stop() == 0  # SIGTERM: graceful
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "console.access"]
    assert any(line["route"] == "queues.initial_review" and line["user"] == "alice" and line["request_id"]
               for line in access), access[-5:]


PROBE = """
import json, sys, time, urllib.request
url, seconds = sys.argv[1], float(sys.argv[2])
end, latencies = time.monotonic() + seconds, []
while time.monotonic() < end:
    started = time.monotonic()
    try:
        urllib.request.urlopen(url, timeout=5).read()
        latencies.append(time.monotonic() - started)
    except Exception:
        latencies.append(99.0)
    time.sleep(0.2)
print(json.dumps(latencies))
"""


def _get(server, path: str, token: str, timeout: float = 10) -> int:
    request = urllib.request.Request(server.base + path, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        return urllib.request.urlopen(request, timeout=timeout).status  # noqa: S310
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def _offer(server, path: str, token: str, *, clients: int, seconds: float, rate: float | None,
           outcomes: list) -> None:
    """``clients`` threads for ``seconds``: as fast as answered (rate None), or ``rate`` requests/s in all."""
    end = time.monotonic() + seconds
    interval = clients / rate if rate else 0.0

    def run() -> None:
        next_at = time.monotonic()
        while time.monotonic() < end:
            started = time.monotonic()
            outcomes.append((_get(server, path, token), time.monotonic() - started))
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)


def test_at_twice_the_capacity_health_stays_fast_excess_fails_fast_and_it_recovers(app, users, database_url,
                                                                                 tmp_path, token):
    if not database_url.startswith("postgresql"):
        pytest.skip("the production recipe runs on PostgreSQL (CI's second run); on SQLite the 2-core machine's "
                    "load generator and workers contend for the same cores")
    """Capacity is measured first (six clients, as many requests at once as the two workers take);
    then twice that rate is offered while /healthz is probed every 200 ms."""
    from console.services import orders as order_service
    from console.services.actors import Actor
    from tests.factories import order_body

    with app.app_context():
        no = order_service.submit(order_body(), Actor.portal("t"))[0].order_no
    path = f"/api/v1/orders/{no}"
    with Server(database_url, tmp_path) as server:
        warm: list = []
        _offer(server, path, token, clients=6, seconds=3, rate=None, outcomes=warm)
        capacity = sum(1 for status, _ in warm if status == 200) / 3
        outcomes: list = []
        # The probe runs in a process of its own: in this one it would wait for the load threads.
        prober = subprocess.Popen([sys.executable, "-c", PROBE, server.base + "/healthz", "6"],
                                  stdout=subprocess.PIPE, text=True)
        _offer(server, path, token, clients=16, seconds=6, rate=2 * capacity, outcomes=outcomes)
        health = json.loads(prober.communicate(timeout=30)[0])
        ended = time.monotonic()
        recovered = None
        while time.monotonic() - ended < 5:  # back to normal within 5 s: a lone request is served
            if _get(server, path, token, timeout=2) == 200:
                recovered = time.monotonic() - ended
                break
            time.sleep(0.1)
    served = [seconds for status, seconds in outcomes if status == 200]
    shed = [seconds for status, seconds in outcomes if status == 503]
    print(f"\ncapacity {capacity:.0f}/s; offered {len(outcomes) / 6:.0f}/s: served {len(served)}, shed {len(shed)}; "
          f"health max {max(health):.3f}s; recovered after {recovered}")
    assert served, "nothing was served under load"
    assert all(status in (200, 503) for status, _ in outcomes), {s for s, _ in outcomes}
    assert health and max(health) <= 1.0, sorted(health)[-5:]  # /healthz answered within 1 s throughout
    if shed:  # excess requests were refused at once, not queued
        assert sorted(shed)[len(shed) // 2] < 0.5
    assert recovered is not None
