"""Prometheus metrics at /metrics: requests measured in every worker, work read from the database.

Under gunicorn the workers share one folder of metric files (prometheus-client's multiprocess
mode, ``PROMETHEUS_MULTIPROC_DIR``, set by gunicorn.conf.py); a scrape adds them up. The state of
the work (queues, the sweep, the lease, imports, mail) is read at scrape time with a handful of
small queries over open orders and one-row tables — never a count over all orders.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Flask, Response, abort, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily

from console.auth import public
from console.services import monitoring

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "console_http_request_duration_seconds", "Time to answer a request, by endpoint.",
    ["endpoint", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
RESPONSES = Counter("console_http_responses_total", "Responses, by endpoint and status.",
                    ["endpoint", "status"])


class WorkCollector:
    """Gauges of the work, read from the database when Prometheus scrapes."""

    def collect(self):
        snapshot = monitoring.snapshot()
        depth = GaugeMetricFamily("console_queue_orders", "Open orders, by queue and state.",
                                  labels=["queue", "state"])
        unclaimed = GaugeMetricFamily("console_queue_unclaimed_orders", "Open orders nobody has claimed.",
                                      labels=["queue"])
        overdue = GaugeMetricFamily("console_queue_overdue_orders", "Open orders past their stage's due time.",
                                    labels=["queue"])
        oldest = GaugeMetricFamily("console_queue_oldest_unclaimed_age_seconds",
                                   "Age in its stage of the oldest unclaimed order.", labels=["queue"])
        for row in snapshot["queues"]:
            depth.add_metric([row["queue"], row["state"]], row["orders"])
        for queue, figures in snapshot["per_queue"].items():
            unclaimed.add_metric([queue], figures["unclaimed"])
            overdue.add_metric([queue], figures["overdue"])
            oldest.add_metric([queue], figures["oldest_unclaimed_age"])
        yield from (depth, unclaimed, overdue, oldest)
        sweep = snapshot["sweep"]
        yield _gauge("console_sweep_last_success_timestamp_seconds", "When the last sweep succeeded (0: never).",
                     sweep["last_success"])
        yield _gauge("console_sweep_last_duration_seconds", "How long the last successful sweep took.",
                     sweep["duration"])
        lease = GaugeMetricFamily("console_scheduler_lease", "1 for the jobs runner holding the lease.",
                                  labels=["holder"])
        if snapshot["lease"]["holder"]:
            lease.add_metric([snapshot["lease"]["holder"]], 1)
        yield lease
        yield _gauge("console_scheduler_lease_expires_timestamp_seconds", "When the lease runs out.",
                     snapshot["lease"]["expires"])
        yield _gauge("console_import_rows_applied", "Bureau import rows applied, all imports.",
                     snapshot["import_rows_applied"])
        mails = GaugeMetricFamily("console_alert_mails", "Alert mails, sent and failed, since the start.",
                                  labels=["outcome"])
        mails.add_metric(["sent"], snapshot["mails"]["sent"])
        mails.add_metric(["failed"], snapshot["mails"]["failed"])
        yield mails


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", public(metrics_view))


def _start_timer() -> None:
    g.started = time.perf_counter()


def _observe(response):
    started = g.get("started")
    if started is not None:
        endpoint = request.endpoint or "unmatched"
        REQUEST_SECONDS.labels(endpoint, request.method).observe(time.perf_counter() - started)
        RESPONSES.labels(endpoint, str(response.status_code)).inc()
    return response


def metrics_view():
    """Prometheus text; loopback and CONSOLE_METRICS_ALLOW addresses, or CONSOLE_METRICS_TOKEN."""
    if not _allowed():
        abort(403)
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        prometheus_multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
        registry.register(RESPONSES)
    registry.register(WorkCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def _allowed() -> bool:
    token = os.environ.get("CONSOLE_METRICS_TOKEN", "")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if address.is_loopback:
        return True
    return any(address in network for network in allowed_networks())


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = os.environ.get("CONSOLE_METRICS_ALLOW", "")
    return [ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()]


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit hook: forget the live gauges of a worker that ended."""
    if os.environ.get(MULTIPROC_ENV):
        prometheus_multiprocess.mark_process_dead(pid)
