"""Signed webhooks against a real HTTP receiver on 127.0.0.1: delivered once and in order per
order, retried across outages, disabled by 410, dead-lettered and replayed; the docs' verification
example accepts what the console sends."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from console.domain.calendar import utcnow
from console.domain.workflow import Action
from console.extensions import db
from console.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from console.services import orders, webhooks
from console.services.actors import Actor
from tests.conftest import Browser
from tests.factories import order_body
from tests.receiver import Receiver, free_port_url
from tests.test_postreview import BOSS, v

DOCS = Path(__file__).resolve().parent.parent / "docs" / "webhooks.md"


def docs_verify():
    """The verification function printed in docs/webhooks.md, as a portal developer would paste it."""
    code = re.search(r"### Verifying a delivery \(Python\)\s+```python\n(.*?)```", DOCS.read_text(), re.S).group(1)
    scope: dict = {}
    exec(compile(code, str(DOCS), "exec"), scope)  # noqa: S102 (our own documentation)
    return scope["verify"]


def endpoint(app, url: str, types: list[str] | None = None) -> tuple[int, str]:
    with app.app_context():
        made, secret = webhooks.create_endpoint(url, types or [], actor_id=None)
        return made.id, secret


def submit(app, n: int = 1, **body) -> list[str]:
    with app.app_context():
        return [orders.submit(order_body(**body), Actor.portal("t"))[0].order_no for _ in range(n)]


def deliver(app, now=None) -> dict:
    with app.app_context():
        return webhooks.deliver_pending(now=now)


def statuses(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(WebhookDelivery.status, func.count())
                                       .group_by(WebhookDelivery.status)).all())


def test_events_arrive_signed_and_the_documented_check_accepts_them(app, users):
    verify = docs_verify()
    with Receiver() as receiver:
        _, secret = endpoint(app, receiver.url)
        nos = submit(app, 2)
        summary = deliver(app)
        assert summary["delivered"] == 2 and statuses(app) == {"delivered": 2}
        assert sorted(r["event"]["order_no"] for r in receiver.received) == sorted(nos)
        for got in receiver.received:
            headers, body = got["headers"], got["body"]
            assert headers["X-Console-Event-Id"] == got["event"]["id"]
            assert re.fullmatch(r"sha256=[0-9a-f]{64}", headers["X-Console-Signature"])
            assert verify(secret, headers, body)
            assert not verify("whsec_wrong", headers, body)
            assert not verify(secret, headers, body + b" ")  # a changed body fails
            assert got["event"]["type"] == "order.submitted" and got["event"]["sequence"] == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookAttempt)) == 2


def test_only_the_chosen_types_are_sent(app, users):
    with Receiver() as receiver:
        endpoint(app, receiver.url, ["review.returned"])
        no = submit(app)[0]
        with app.app_context():
            orders.decide(no, Action.REJECT, BOSS, expected_version=v(app, no), reasons=["other"], note="补充")
        deliver(app)
        assert [r["event"]["type"] for r in receiver.received] == ["review.returned"]


def test_a_receiver_that_is_down_gets_everything_later_and_nothing_is_lost(app, users):
    down = free_port_url()
    endpoint_id, _ = endpoint(app, down)
    nos = submit(app, 3)
    first = deliver(app)
    assert first["failed"] == 3 and statuses(app) == {"pending": 3}
    with app.app_context():
        waits = db.session.scalars(select(WebhookDelivery.next_attempt_at)).all()
        assert all(timedelta(seconds=23) < w - utcnow() < timedelta(seconds=37) for w in waits)  # 30 s ± 20 %
    with Receiver() as receiver:
        with app.app_context():
            db.session.get(WebhookEndpoint, endpoint_id).url = receiver.url
            db.session.commit()
        assert deliver(app)["sent"] == 0  # not yet due
        deliver(app, now=utcnow() + timedelta(minutes=1))
        assert sorted(r["event"]["order_no"] for r in receiver.received) == sorted(nos)
    assert statuses(app) == {"delivered": 3}


def test_a_500_or_a_timeout_is_retried_and_a_duplicate_keeps_its_id(app, users):
    app.config["WEBHOOK_TIMEOUT_SECONDS"] = 1
    with Receiver() as receiver:
        receiver.answer = lambda event, attempt: {1: (500, 0), 2: (200, 1.5)}.get(attempt, (200, 0))
        endpoint(app, receiver.url)
        submit(app)
        now = utcnow()
        assert deliver(app, now)["failed"] == 1  # 500
        assert deliver(app, now + timedelta(minutes=2))["failed"] == 1  # answered too late: a timeout
        assert deliver(app, now + timedelta(minutes=5))["delivered"] == 1
        ids = receiver.ids()
        assert len(ids) == 3 and len(set(ids)) == 1  # the same event, three times, one id
    with app.app_context():
        errors = db.session.scalars(select(WebhookAttempt.error).order_by(WebhookAttempt.id)).all()
    assert errors[0] == "HTTP 500" and "timed out" in errors[1].lower() and errors[2] == ""


def test_an_orders_events_keep_their_order_while_one_is_retried(app, users):
    with Receiver() as receiver:
        endpoint(app, receiver.url)
        no, other = submit(app, 2)
        with app.app_context():
            orders.decide(no, Action.REJECT, BOSS, expected_version=v(app, no), reasons=["other"], note="补充")
        # the first event of `no` fails once; its later event must wait for it
        receiver.answer = lambda e, attempt: (503, 0) if e["order_no"] == no and e["sequence"] == 1 \
            and attempt == 1 else (200, 0)
        now = utcnow()
        deliver(app, now)
        assert [(r["event"]["order_no"], r["event"]["sequence"]) for r in receiver.received
                if r["event"]["order_no"] == no] == [(no, 1)]
        assert any(r["event"]["order_no"] == other for r in receiver.received)  # other orders go on
        deliver(app, now + timedelta(minutes=1))
        deliver(app, now + timedelta(minutes=2))
        sequences = [r["event"]["sequence"] for r in receiver.received if r["event"]["order_no"] == no]
        assert sequences == [1, 1, 2]


def test_410_disables_the_endpoint_and_enabling_it_sends_what_waited(app, users):
    with Receiver() as receiver:
        receiver.answer = lambda e, attempt: (410, 0)
        endpoint_id, _ = endpoint(app, receiver.url)
        submit(app, 2)
        assert deliver(app)["disabled"] == 1
        with app.app_context():
            gone = db.session.get(WebhookEndpoint, endpoint_id)
            assert not gone.active and "410" in gone.disabled_reason
        submit(app)
        assert deliver(app)["sent"] == 0 and statuses(app) == {"pending": 3}  # kept, not sent
        receiver.answer = lambda e, attempt: (200, 0)
        with app.app_context():
            webhooks.set_active(endpoint_id, True, actor_id=None)
        deliver(app)
        assert statuses(app) == {"delivered": 3}


def test_exhausted_retries_become_dead_letters_that_can_be_replayed(app, users):
    with Receiver() as receiver:
        receiver.answer = lambda e, attempt: (500, 0)
        endpoint_id, _ = endpoint(app, receiver.url)
        submit(app, 2)
        now = utcnow()
        deliver(app, now)
        assert deliver(app, now + timedelta(hours=25))["dead"] == 2 and statuses(app) == {"dead": 2}
        carol = Browser(app, "dave")
        page = carol.get("/admin/webhooks").get_data(as_text=True)
        assert 'id="dead-letters"' in page and "全部重投" in page
        receiver.answer = lambda e, attempt: (200, 0)
        with app.app_context():
            one = db.session.scalar(select(WebhookDelivery.id).limit(1))
        assert carol.post(f"/admin/webhooks/{endpoint_id}/replay/{one}").status_code == 302
        deliver(app, now + timedelta(hours=25))
        assert statuses(app) == {"delivered": 1, "dead": 1}
        assert carol.post(f"/admin/webhooks/{endpoint_id}/replay").status_code == 302
        deliver(app, now + timedelta(hours=25))
        assert statuses(app) == {"delivered": 2}


def test_while_a_secret_rotates_both_sign(app, users):
    verify = docs_verify()
    with Receiver() as receiver:
        endpoint_id, old = endpoint(app, receiver.url)
        with app.app_context():
            new = webhooks.rotate_secret(endpoint_id, actor_id=None)
        submit(app)
        deliver(app)
        got = receiver.received[0]
        assert got["headers"]["X-Console-Signature"].count("sha256=") == 2
        assert verify(new, got["headers"], got["body"]) and verify(old, got["headers"], got["body"])


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://portal.example.cn/h", "https://"), ("https://", "主机名"), ("https://u:p@portal.example.cn/h", "用户名"),
    ("https://portal.example.cn/h h", "空白"), ("https://portal.example.cn/\x00", "控制字符"), ("", "请填写"),
])
def test_an_admin_adds_endpoints_with_clear_refusals(app, users, url, message):
    admin = Browser(app, "dave")
    answer = admin.post("/admin/webhooks", {"url": url, "event_types": ["order.submitted"]})
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_the_secret_is_shown_once_and_only_admins_manage_endpoints(app, users):
    admin = Browser(app, "dave")
    answer = admin.post("/admin/webhooks", {"url": "https://portal.example.cn/hooks", "event_types": []})
    assert answer.status_code == 302
    first = admin.get("/admin/webhooks").get_data(as_text=True)
    secret = re.search(r"<code>(whsec_[^<]+)</code>", first).group(1)
    assert secret not in admin.get("/admin/webhooks").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(WebhookEndpoint.secret)) == secret
    for who in ("alice", "carol"):
        assert Browser(app, who).get("/admin/webhooks").status_code == 403
        assert Browser(app, who).post("/admin/webhooks", {"url": "https://x.example.cn/"}).status_code == 403


def test_an_endpoint_hears_only_of_events_after_it_was_added(app, users):
    submit(app)
    with Receiver() as receiver:
        endpoint(app, receiver.url)
        later = submit(app)[0]
        deliver(app)
        assert [r["event"]["order_no"] for r in receiver.received] == [later]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 2


# --- the jobs process -------------------------------------------------------------------------

def _wait(predicate, timeout: float) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def _kill(*procs) -> None:
    import os
    import signal

    for p in procs:
        if p is not None and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)


def test_two_job_runners_deliver_each_event_once(app, users, database_url):
    import subprocess

    from tests.test_jobs import cli, env_for

    with Receiver() as receiver:
        endpoint(app, receiver.url)
        submit(app, 30)
        env = env_for(database_url, CONSOLE_JOB_INTERVAL_SECONDS="1", CONSOLE_LEASE_SECONDS="30")
        procs = [subprocess.Popen(cli("jobs", "run"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True) for _ in range(2)]
        try:
            assert _wait(lambda: len(receiver.ids()) >= 30, 90), len(receiver.ids())
            _wait(lambda: False, 3)  # a second runner, if it were delivering too, would show duplicates now
        finally:
            _kill(*procs)
        ids = receiver.ids()
        assert len(ids) == 30 and len(set(ids)) == 30
    assert statuses(app) == {"delivered": 30}


def test_a_runner_killed_mid_delivery_is_resumed_and_every_event_arrives(app, users, database_url):
    import os
    import signal
    import subprocess

    from tests.test_jobs import cli, env_for

    with Receiver() as receiver:
        receiver.answer = lambda e, attempt: (200, 0.3)  # slow: the kill lands while POSTs are out
        endpoint(app, receiver.url)
        submit(app, 40)
        with app.app_context():
            all_ids = {str(i) for i in db.session.scalars(select(OutboxEvent.id))}
        env = env_for(database_url, CONSOLE_JOB_INTERVAL_SECONDS="1", CONSOLE_LEASE_SECONDS="3")
        first = subprocess.Popen(cli("jobs", "run"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
        second = None
        try:
            assert _wait(lambda: len(receiver.ids()) >= 3, 60)
            os.killpg(first.pid, signal.SIGKILL)  # mid-batch: some POSTs answered, none settled
            first.wait(timeout=30)
            receiver.answer = lambda e, attempt: (200, 0)
            second = subprocess.Popen(cli("jobs", "run"), env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
            assert _wait(lambda: statuses(app) == {"delivered": 40}, 90), statuses(app)
        finally:
            _kill(first, second)
        ids = receiver.ids()
        assert set(ids) == all_ids  # nothing lost
        # duplicates only as redeliveries of the same event (at least once)
        assert len(ids) >= len(all_ids)
