"""WSGI entry point: ``gunicorn wsgi:app``.

The scheduler runs in this process only with CONSOLE_SCHEDULER=on (single-process setups); in
production it is its own process (``icp-console jobs run``), never one per web worker.
"""

from console import create_app

app = create_app()

if app.config["SCHEDULER_ENABLED"]:
    from jobs.scheduler import start_in_process

    start_in_process(app)
