"""Load shedding: a worker takes at most N requests at once and answers the rest 503 at once.

Without it, a worker whose threads are all busy queues every further request for as long as it
takes, health checks included: at twice the capacity abandoned requests are worked off for
minutes. With it, /healthz, /readyz and /metrics always find a free thread, and a browser or
the portal learns immediately that it should retry (``Retry-After``).
"""

from __future__ import annotations

import json
import os
import threading

IN_FLIGHT_ENV = "CONSOLE_MAX_IN_FLIGHT"
#: Paths that are never shed: they are cheap, and operators need them most under load.
EXEMPT = ("/healthz", "/readyz", "/metrics", "/static/")


class Shedder:
    """WSGI middleware: at most ``limit`` requests in this process at once (0 = no limit)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit
        self.lock = threading.Lock()
        self.in_flight = 0
        self.shed = 0

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not self.limit or path.startswith(EXEMPT):
            return self.app(environ, start_response)
        with self.lock:
            admitted = self.in_flight < self.limit
            if admitted:
                self.in_flight += 1
            else:
                self.shed += 1
        if not admitted:
            return _busy(environ, start_response)
        try:
            return self.app(environ, start_response)
        finally:
            with self.lock:
                self.in_flight -= 1


def _busy(environ, start_response):
    wants_json = environ.get("PATH_INFO", "").startswith("/api/")
    if wants_json:
        body = json.dumps({"error": "overloaded", "message": "服务繁忙，请稍后重试", "fields": {}},
                          ensure_ascii=False).encode()
        kind = "application/json"
    else:
        body = "服务繁忙，请稍后重试。".encode()
        kind = "text/plain; charset=utf-8"
    start_response("503 Service Unavailable", [("Content-Type", kind), ("Retry-After", "1"),
                                               ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
    return [body]


def limit_from_environment() -> int:
    raw = os.environ.get(IN_FLIGHT_ENV, "").strip()
    return int(raw) if raw.isdigit() else 0
