"""Structured logs: JSON lines with a request id, one access line per request.

Every line carries time, level, logger and message; inside a request also the request id (taken
from ``X-Request-ID`` when it is sane, else made, and returned on the response), the user, the
route and the order number when the URL names one. The jobs process logs the same way (it builds
the same app). ``CONSOLE_LOG_FORMAT=text`` gives plain lines for a terminal.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
access_log = logging.getLogger("console.access")


class RequestContext(logging.Filter):
    """Adds the request's id, user, route and order number to every record made during it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "")
            record.route = request.endpoint or ""
            user = current_user if g.get("_login_user") is not None else None
            record.user = getattr(user, "username", "") if user is not None else ""
            order_no = (request.view_args or {}).get("order_no")
            if order_no:
                record.order_no = order_no
        return True


def configure(app: Flask) -> None:
    """Root logging for the process (once), and the request id and access line for ``app``."""
    app.before_request(_begin)
    app.after_request(_end)
    if app.testing:
        return
    root = logging.getLogger()
    if any(getattr(h, "console_handler", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.console_handler = True  # type: ignore[attr-defined]
    handler.addFilter(RequestContext())
    if os.environ.get("CONSOLE_LOG_FORMAT", "json") == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(json_formatter())
    root.handlers = [h for h in root.handlers if not isinstance(h, logging.StreamHandler)] + [handler]
    root.setLevel(os.environ.get("CONSOLE_LOG_LEVEL", "INFO").upper())


def json_formatter() -> JsonFormatter:
    return JsonFormatter("{asctime}{levelname}{name}{message}", style="{", timestamp=False,
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         json_ensure_ascii=False)


def _begin() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if REQUEST_ID_RE.match(given) else uuid.uuid4().hex
    g.log_started = time.perf_counter()


def _end(response):
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    started = g.get("log_started")
    if started is not None:
        access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "bytes": response.calculate_content_length() or 0})
    return response
