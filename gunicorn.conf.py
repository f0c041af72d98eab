"""The production web process: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be changed through the environment (systemd unit, container). The shape:
threaded workers, each keeping one thread free of slow work (``CONSOLE_MAX_IN_FLIGHT`` below), so
that /healthz and quick refusals are answered even at twice the capacity, and excess requests get
503 at once instead of waiting minutes in a queue.
"""

import glob
import os
import tempfile

# Nothing of the console is imported here: the master forks the workers, and prometheus-client
# must see PROMETHEUS_MULTIPROC_DIR before its first import in any of them.
IN_FLIGHT_ENV = "CONSOLE_MAX_IN_FLIGHT"  # console/overload.py reads it

bind = os.environ.get("CONSOLE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CONSOLE_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
worker_class = "gthread"
threads = int(os.environ.get("CONSOLE_THREADS", "4"))
# Requests a worker works on at once; the rest of its threads answer health checks and 503s.
os.environ.setdefault(IN_FLIGHT_ENV, str(max(1, threads - 1)))

# A request that takes longer than this is killed with its worker; the statement timeout in the
# database (CONSOLE_STATEMENT_TIMEOUT_MS, 15 s by default) ends slow queries well before.
timeout = int(os.environ.get("CONSOLE_WORKER_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("CONSOLE_GRACEFUL_TIMEOUT", "20"))  # SIGTERM: finish what runs
keepalive = 5
# Workers are replaced after a number of requests (with jitter, not all at once): memory stays flat.
max_requests = int(os.environ.get("CONSOLE_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# Connections waiting to be accepted; beyond this the kernel refuses them (fail fast).
backlog = int(os.environ.get("CONSOLE_BACKLOG", "256"))
# The console writes its own JSON access log line per request (console/logs.py).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("CONSOLE_LOG_LEVEL", "info")
proc_name = "icp-console"

# Metrics from every worker are collected in one folder (prometheus-client's multiprocess mode),
# emptied when gunicorn starts so that counters begin at zero with the new master.
METRICS_DIR = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(tempfile.gettempdir(), "icp-console-metrics-" + bind.replace(":", "-").replace("/", "_")))


def on_starting(server):
    os.makedirs(METRICS_DIR, exist_ok=True)
    for stale in glob.glob(os.path.join(METRICS_DIR, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    """A worker that ends leaves its live gauges behind; drop them."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
