"""What an operator relies on: /metrics, /readyz, JSON logs with request ids."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import text

from console.database import write_transaction
from console.extensions import db
from console.logs import RequestContext, json_formatter
from console.services import orders
from console.services.actors import Actor
from tests.conftest import Browser
from tests.factories import order_body


def test_metrics_show_the_queues_and_the_requests_to_loopback(app, users):
    with app.app_context():
        orders.submit(order_body(), Actor.portal("t"))
    Browser(app, "alice").get("/queues/initial-review")
    response = app.test_client().get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert 'console_queue_orders{queue="initial-review",state="initial_review"} 1.0' in body
    assert 'console_queue_unclaimed_orders{queue="initial-review"} 1.0' in body
    assert 'console_http_request_duration_seconds_count{endpoint="queues.initial_review",method="GET"}' in body
    assert 'console_alert_mails{outcome="sent"} 0.0' in body
    assert "console_sweep_last_success_timestamp_seconds" in body


@pytest.mark.parametrize(("env", "headers", "status"), [
    ({}, {}, 403),
    ({"CONSOLE_METRICS_ALLOW": "203.0.113.0/24"}, {}, 200),
    ({"CONSOLE_METRICS_ALLOW": "198.51.100.0/24"}, {}, 403),
    ({"CONSOLE_METRICS_TOKEN": "s3cret-metrics-token"}, {"Authorization": "Bearer s3cret-metrics-token"}, 200),
    ({"CONSOLE_METRICS_TOKEN": "s3cret-metrics-token"}, {"Authorization": "Bearer wrong"}, 403),
])
def test_metrics_from_elsewhere_need_an_allowed_network_or_the_token(app, monkeypatch, env, headers, status):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    response = app.test_client().get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == status


def test_readyz_names_a_schema_behind_the_code(app):
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["failed"] == []
    with app.app_context():
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        with write_transaction():  # as if the new code were deployed before `db upgrade`
            db.session.execute(text("UPDATE alembic_version SET version_num = '79e0d3703125'"))
    try:
        behind = client.get("/readyz")
        assert behind.status_code == 503 and behind.get_json()["failed"] == ["schema"]
        assert behind.get_json()["checks"]["schema"]["current"] == ["79e0d3703125"]
        assert client.get("/healthz").status_code == 200  # alive all the same
    finally:
        with app.app_context(), write_transaction():
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})


@pytest.mark.parametrize(("given", "kept"), [("abc-123.x:y", True), ("x" * 65, False), ("a b", False), ("", False)])
def test_a_request_id_is_taken_when_sane_and_made_otherwise(app, given, kept):
    response = app.test_client().get("/healthz", headers={"X-Request-ID": given} if given else {})
    returned = response.headers["X-Request-ID"]
    assert (returned == given) if kept else (len(returned) == 32 and returned != given)


def test_log_lines_are_json_with_the_request_id_user_route_and_order(app, users):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContext())
    handler.setFormatter(json_formatter())
    access = logging.getLogger("console.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        with app.app_context():
            no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        Browser(app, "alice").get(f"/orders/{no}", headers={"X-Request-ID": "trace-42"})
    finally:
        access.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    line = next(entry for entry in lines if entry.get("request_id") == "trace-42")
    assert line["level"] == "INFO" and line["logger"] == "console.access" and "time" in line
    assert line["route"] == "orders.workspace" and line["order_no"] == no and line["user"] == "alice"
    assert line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] >= 0


def test_a_slow_statement_in_a_web_request_is_cancelled_on_postgresql(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("statement_timeout is PostgreSQL's")
    from sqlalchemy.exc import OperationalError

    from console import create_app

    web = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t",
                      "STATEMENT_TIMEOUT_MS": 200})
    cli = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t",
                      "STATEMENT_TIMEOUT_MS": 0})
    with web.app_context():
        with pytest.raises(OperationalError, match="statement timeout"):
            db.session.execute(text("SELECT pg_sleep(2)"))
        db.session.rollback()
        db.engine.dispose()
    with cli.app_context():  # migrations and bulk work have no limit
        db.session.execute(text("SELECT pg_sleep(0.3)"))
        db.engine.dispose()
