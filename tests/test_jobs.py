"""The overdue sweep with an explicit --now, idempotence under concurrency, the lease, e-mail."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from console.domain.calendar import SHANGHAI
from console.domain.workflow import Action
from console.extensions import db
from console.models import Alert, JobRun, Order, User
from console.services import orders
from console.services.actors import Actor
from jobs.tasks import sweep_once
from tests.conftest import Browser
from tests.factories import order_body
from tests.test_services_orders import run_together

SYSTEM = Actor.system("test")


def sh(text: str) -> datetime:
    """'2026-09-30 15:00' Asia/Shanghai → aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def submit_at(app, when: str, **kw) -> str:
    now = sh(when)
    with app.app_context():
        return orders.submit(order_body(submitted_at=now, **kw), Actor.portal("t"), now=now)[0].order_no


def to_bureau_at(app, no: str, when: str) -> None:
    now = sh(when)
    with app.app_context():
        orders.decide(no, Action.APPROVE, SYSTEM, expected_version=orders.get_order(no).version, now=now)
        orders.sms_verified(no, now, SYSTEM, now=now)


def alerts_of(app, no: str) -> list[str]:
    with app.app_context():
        order = orders.get_order(no)
        return sorted(db.session.scalars(select(Alert.kind).where(Alert.order_id == order.id)))


def sweep_at(app, when: str) -> dict:
    with app.app_context():
        return sweep_once(sh(when))


@pytest.mark.parametrize(("entered", "quiet", "flagged", "why"), [
    ("2026-09-30 15:00", "2026-10-08 23:59", "2026-10-09 00:01", "National Day: due end of 10-08"),
    ("2026-09-19 10:00", "2026-09-20 23:59", "2026-09-21 00:01", "make-up Sunday 09-20 is the working day"),
    ("2026-10-09 16:00", "2026-10-10 23:59", "2026-10-11 00:01", "make-up Saturday 10-10"),
])
def test_initial_review_is_flagged_overdue_at_the_right_moment_and_not_before(app, users, entered, quiet, flagged, why):
    no = submit_at(app, entered)
    sweep_at(app, quiet)
    assert "overdue" not in alerts_of(app, no), why
    sweep_at(app, flagged)
    assert "overdue" in alerts_of(app, no), why


def test_due_soon_comes_in_the_last_fifth(app, users):
    no = submit_at(app, "2026-11-23 09:00")  # Monday: due end of Tuesday (39 h), due soon after ~31.2 h
    sweep_at(app, "2026-11-24 15:00")
    assert alerts_of(app, no) == []
    sweep_at(app, "2026-11-24 16:30")
    assert alerts_of(app, no) == ["due_soon"]


def test_a_twenty_day_bureau_window_across_spring_festival(app, users):
    no = submit_at(app, "2026-02-12 08:00", province="北京")  # 20 working days (浙江 would be 30)
    to_bureau_at(app, no, "2026-02-12 09:00")
    sweep_at(app, "2026-03-18 23:59")
    assert "bureau_overdue" not in alerts_of(app, no)
    sweep_at(app, "2026-03-19 00:01")
    assert "bureau_overdue" in alerts_of(app, no)


def test_a_window_into_a_year_the_calendar_package_does_not_carry(app, users):
    no = submit_at(app, "2026-12-24 08:00", province="北京")
    to_bureau_at(app, no, "2026-12-24 10:00")
    with app.app_context():
        order = orders.get_order(no)
        assert order.due_estimated is True
        assert order.due_at == sh("2027-01-23 00:00")
    sweep_at(app, "2027-01-22 23:00")
    assert "bureau_overdue" not in alerts_of(app, no)
    sweep_at(app, "2027-01-23 00:30")
    assert "bureau_overdue" in alerts_of(app, no)


def test_sms_codes_expire_after_24_hours_and_return_the_order(app, users):
    no = submit_at(app, "2026-11-23 09:00")
    with app.app_context():
        orders.decide(no, Action.APPROVE, SYSTEM, expected_version=1, now=sh("2026-11-23 10:00"))
    sweep_at(app, "2026-11-24 06:00")  # the last fifth of 24 hours starts at 05:12
    assert alerts_of(app, no) == ["sms_expiring"]
    summary = sweep_at(app, "2026-11-24 10:01")
    assert summary["sms_expired"] == 1
    with app.app_context():
        assert orders.get_order(no).state == "returned"


def test_escalation_when_an_overdue_alert_is_not_acknowledged(app, users):
    no = submit_at(app, "2026-11-23 09:00")  # due 11-25 00:00 Shanghai
    sweep_at(app, "2026-11-25 00:10")
    sweep_at(app, "2026-11-25 03:00")
    assert "escalated" not in alerts_of(app, no)
    sweep_at(app, "2026-11-25 04:20")  # 4 working hours after the overdue alert (Wednesday)
    assert "escalated" in alerts_of(app, no)
    with app.app_context():
        escalated = db.session.scalar(select(Alert).where(Alert.kind == "escalated"))
        assert escalated.recipient_id is None  # to the supervisors


def test_acknowledged_overdue_alerts_do_not_escalate(app, users):
    no = submit_at(app, "2026-11-23 09:00")
    sweep_at(app, "2026-11-25 00:10")
    with app.app_context():
        alert = db.session.scalar(select(Alert))
        from console.models import User
        from console.services.alerts import acknowledge

        acknowledge(db.session.get(User, users["carol"]), [alert.id])
    sweep_at(app, "2026-11-26 12:00")
    assert alerts_of(app, no) == ["overdue"]


def test_alerts_go_to_the_assignee_or_to_the_supervisors(app, users):
    mine = submit_at(app, "2026-11-23 09:00")
    submit_at(app, "2026-11-23 09:00")
    with app.app_context():
        orders.claim(mine, Actor(users["alice"], "alice", "specialist"), now=sh("2026-11-23 10:00"))
    sweep_at(app, "2026-11-25 00:10")
    with app.app_context():
        recipients = sorted(str(r) for r in db.session.scalars(select(Alert.recipient_id)))
        assert recipients == sorted([str(users["alice"]), "None"])


def test_running_the_sweep_twice_creates_nothing_twice(app, users):
    for _ in range(3):
        submit_at(app, "2026-11-23 09:00")
    first = sweep_at(app, "2026-11-25 00:10")
    second = sweep_at(app, "2026-11-25 00:11")
    assert first["new_alerts"] == 3 and second["new_alerts"] == 0 and second["looked_at"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Alert.id))) == 3


def test_two_sweeps_at_once_create_each_alert_exactly_once(app, users):
    for _ in range(5):
        submit_at(app, "2026-11-23 09:00")
    when = sh("2026-11-25 00:10")
    results = run_together(app, lambda: sweep_once(when)["new_alerts"], lambda: sweep_once(when)["new_alerts"])
    assert all(r[0] == "ok" for r in results), results
    assert sum(r[1] for r in results) == 5
    with app.app_context():
        assert db.session.scalar(select(func.count(Alert.id))) == 5


def env_for(database_url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update({"CONSOLE_DATABASE_URL": database_url, "CONSOLE_MODE": "testing", "CONSOLE_SECRET_KEY": "t" * 32,
                "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def cli(*args) -> list[str]:
    return [sys.executable, "-c", "from console.cli import main; main()", *args]


def test_two_sweep_processes_at_once_create_each_alert_exactly_once(app, users, database_url):
    for _ in range(5):
        submit_at(app, "2026-11-23 09:00")
    env = env_for(database_url)
    procs = [subprocess.Popen(cli("jobs", "sweep", "--now", "2026-11-25T00:10:00+08:00"), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    created = [json.loads(out.strip().splitlines()[-1])["new_alerts"] for out, _ in outputs]
    assert sum(created) == 5
    with app.app_context():
        assert db.session.scalar(select(func.count(Alert.id))) == 5


def test_the_sweep_command_rejects_a_bad_time(database_url):
    result = subprocess.run(cli("jobs", "sweep", "--now", "tomorrow"), env=env_for(database_url),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "ISO-8601" in result.stderr


def test_only_one_scheduler_sweeps_and_another_takes_over_when_it_dies(app, database_url):
    env = env_for(database_url, CONSOLE_JOB_INTERVAL_SECONDS="1", CONSOLE_LEASE_SECONDS="4")
    procs = [subprocess.Popen(cli("jobs", "run"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) for _ in range(2)]
    try:
        holders = _wait_for_runs(app, minimum=4, timeout=60)
        assert len(set(holders)) == 1, holders  # two processes, one sweeper
        first = holders[0]
        pid = int(first.split(":")[1])
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        deadline = killed_at + 30
        while time.monotonic() < deadline:
            latest = _holders(app)
            if latest and latest[-1] != first:
                break
            time.sleep(0.5)
        else:
            pytest.fail("no other scheduler took over")
        assert time.monotonic() - killed_at <= 4 + 1 + 10  # lease + tick + slack for a busy machine
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=30)


def _holders(app) -> list[str]:
    with app.app_context():
        db.session.rollback()
        runs = db.session.scalars(select(JobRun).where(JobRun.ok.is_(True)).order_by(JobRun.id)).all()
        return [r.summary.get("holder") for r in runs]


def _wait_for_runs(app, minimum: int, timeout: float) -> list[str]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        holders = _holders(app)
        if len(holders) >= minimum:
            return holders
        time.sleep(0.5)
    pytest.fail("the scheduler did not sweep")


def test_an_email_alert_arrives_at_a_real_local_smtp_server(app, users):
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        with app.app_context():
            from console.database import write_transaction
            from console.models import User

            with write_transaction():
                db.session.get(User, users["alice"]).email = "alice@example.com"
        no = submit_at(app, "2026-11-23 09:00")
        with app.app_context():
            orders.claim(no, Actor(users["alice"], "alice", "specialist"), now=sh("2026-11-23 10:00"))
        summary = sweep_at(app, "2026-11-25 00:10")
        assert summary["emailed"] == 1
        assert received and received[0].rcpt_tos == ["alice@example.com"]
        message = email.message_from_bytes(received[0].content, policy=email.policy.default)
        assert no in message["Subject"] and "已超时" in message["Subject"]
    finally:
        controller.stop()


def test_a_failing_job_is_recorded_and_does_not_kill_the_scheduler(app, monkeypatch):
    from console.services import alerts
    from jobs.tasks import run_sweep_if_leader

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(alerts, "sweep", broken)
    assert run_sweep_if_leader(app, "h1") is None
    with app.app_context():
        run = db.session.scalar(select(JobRun))
        assert run.ok is False and "database went away" in run.error


def test_a_stale_sweep_makes_the_console_not_ready_but_still_alive(app, users):
    client = app.test_client()
    with app.app_context():
        sweep_once()
    assert client.get("/healthz").get_json()["scheduler"]["state"] == "ok"
    with app.app_context():
        from console.database import write_transaction

        with write_transaction():
            run = db.session.scalar(select(JobRun))
            run.finished_at = datetime.now(UTC) - timedelta(hours=1)
    alive = client.get("/healthz")  # liveness: restarting the web process would not help
    assert alive.status_code == 200 and alive.get_json()["scheduler"]["state"] == "stale"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["failed"] == ["sweep"]


def test_alerts_page_badge_and_acknowledge(app, users):
    no = submit_at(app, "2026-11-23 09:00")
    with app.app_context():
        orders.claim(no, Actor(users["alice"], "alice", "specialist"), now=sh("2026-11-23 10:00"))
    sweep_at(app, "2026-11-25 00:10")
    alice, bob = Browser(app, "alice"), Browser(app, "bob")
    assert 'data-count="1"' in alice.get("/alerts/badge", htmx=True).get_data(as_text=True)
    assert 'data-count="0"' in bob.get("/alerts/badge", htmx=True).get_data(as_text=True)
    page = alice.get("/alerts").get_data(as_text=True)
    assert no in page and "已超时" in page
    with app.app_context():
        alert_id = db.session.scalar(select(Alert.id))
    assert bob.post("/alerts/acknowledge", {"ids": [alert_id]}, htmx=True).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Alert.acknowledged_at)) is None  # not Bob's to acknowledge
    done = alice.post("/alerts/acknowledge", {"ids": [alert_id]}, htmx=True)
    assert done.status_code == 200 and done.headers["HX-Trigger"] == "alertsChanged"
    assert 'data-count="0"' in alice.get("/alerts/badge", htmx=True).get_data(as_text=True)
    assert alice.post("/alerts/acknowledge", {}, htmx=True).status_code == 422


def test_an_empty_sweep_reads_no_order_rows(app, users):
    for _ in range(3):
        submit_at(app, "2026-11-23 09:00")
    sweep_at(app, "2026-11-25 00:10")
    assert sweep_at(app, "2026-11-25 00:11")["looked_at"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id)).where(Order.next_alert_at.is_not(None))) == 3


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_runner_releases_the_lease_and_a_replacement_takes_over_at_once(app, database_url, signum):
    from console.models import Lease

    # A lease of 10 minutes: without the release, the replacement would wait that long.
    env = env_for(database_url, CONSOLE_JOB_INTERVAL_SECONDS="1", CONSOLE_LEASE_SECONDS="600")
    first = subprocess.Popen(cli("jobs", "run"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    second = None
    try:
        (holder,) = set(_wait_for_runs(app, minimum=1, timeout=60))
        first.send_signal(signum)
        assert first.wait(timeout=30) == 0
        with app.app_context():
            db.session.rollback()
            lease = db.session.get(Lease, "scheduler")
            assert lease.holder == holder and lease.expires_at <= datetime.now(UTC)
        second = subprocess.Popen(cli("jobs", "run"), env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30  # the replacement's first tick is immediate; 30 s of slack
        while time.monotonic() < deadline and set(_holders(app)) == {holder}:
            time.sleep(0.5)
        assert len(set(_holders(app))) == 2, "the replacement did not take over"
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)


def test_a_runner_killed_mid_import_is_resumed_by_the_next_and_no_row_is_applied_twice(app, users, database_url):
    from console.models import BureauImport, OrderEvent
    from console.services import imports
    from tests.test_postreview import bureau_orders, csv_bytes

    nos = bureau_orders(app, 800)
    with app.app_context():
        carol = Actor.for_user(db.session.get(User, users["carol"]))
        batch = imports.preview("r.csv", csv_bytes([[n, "通过", "浙ICP备12345678号-1", ""] for n in nos]), carol)
        imports.queue_apply(batch.id, carol)
        batch_id = batch.id

    def progress() -> tuple[str, int]:
        with app.app_context():
            db.session.rollback()
            row = db.session.get(BureauImport, batch_id)
            return row.status, row.processed

    env = env_for(database_url, CONSOLE_JOB_INTERVAL_SECONDS="1", CONSOLE_LEASE_SECONDS="3")
    first = subprocess.Popen(cli("jobs", "run"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    second = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and progress()[1] < imports.CHECKPOINT_ROWS:
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)  # no chance to release anything
        first.wait(timeout=30)
        status, processed = progress()
        assert status == "applying" and 0 < processed < 800, (status, processed)
        second = subprocess.Popen(cli("jobs", "run"), env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and progress()[0] != "done":
            time.sleep(0.5)
        assert progress() == ("done", 800)
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
    with app.app_context():
        done = db.session.get(BureauImport, batch_id)
        assert done.applied == 800 and done.failed == 0
        approvals = db.session.execute(select(OrderEvent.order_id, func.count())
                                       .where(OrderEvent.action == "bureau_approve")
                                       .group_by(OrderEvent.order_id)).all()
        assert len(approvals) == 800 and all(n == 1 for _, n in approvals)
