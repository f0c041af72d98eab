"""Alert mail against a real SMTP server on 127.0.0.1: hostile subjects, a server that is down or
refuses, retries with backoff; the sweep itself never fails because of mail."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from console.database import write_transaction
from console.domain.calendar import SHANGHAI
from console.extensions import db
from console.models import Alert, JobRun, Order, User
from console.services import orders
from console.services.actors import Actor
from console.services.alerts import MAIL_ATTEMPTS, mail_retry_at, one_line
from tests.test_jobs import sh, submit_at, sweep_at


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """A real SMTP server in a thread; ``refuse`` makes it answer 554 to every message."""

    def __init__(self, port: int):
        self.messages, self.refuse = [], False
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 5.7.1 refused for the test"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


@pytest.fixture
def overdue_order(app, users):
    """An order of alice's that is overdue at 2026-11-25 00:10; alice has an alert address."""
    with app.app_context(), write_transaction():
        db.session.get(User, users["alice"]).email = "alice@example.com"
    no = submit_at(app, "2026-11-23 09:00")
    with app.app_context():
        orders.claim(no, Actor(users["alice"], "alice", "specialist"), now=sh("2026-11-23 10:00"))
    return no


def test_a_subject_with_line_breaks_gives_a_one_line_subject_and_a_clean_sweep(app, overdue_order):
    port = free_port()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    with app.app_context(), write_transaction():  # data from before the API refused line breaks
        db.session.scalar(select(Order).where(Order.order_no == overdue_order)).subject_name = \
            "云栈\r\nBcc: victim@example.com\r\n\r\n伪造正文"
    with Inbox(port) as inbox:
        summary = sweep_at(app, "2026-11-25 00:10")
    assert summary["emailed"] == 1 and summary["email_failed"] == 0
    (message,) = inbox.messages
    assert "\n" not in message["Subject"] and "Bcc: victim" in message["Subject"]  # text, not a header
    assert message["Bcc"] is None


def test_a_mail_server_that_is_down_fails_no_sweep_and_the_mail_is_retried(app, overdue_order):
    port = free_port()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"  # nothing listens yet
    summary = sweep_at(app, "2026-11-25 00:10")
    assert summary["new_alerts"] >= 1 and summary["emailed"] == 0 and summary["email_failed"] >= 1
    with app.app_context():
        run = db.session.scalar(select(JobRun).order_by(JobRun.id.desc()))
        assert run.ok is True and run.summary["email_failed"] >= 1
        alert = db.session.scalar(select(Alert).where(Alert.kind == "overdue"))
        assert alert.emailed_at is None and alert.email_attempts == 1
        assert alert.email_next_at == mail_retry_at(1, sh("2026-11-25 00:10"))
    with Inbox(port) as inbox:
        early = sweep_at(app, "2026-11-25 00:11")  # before the retry is due: nothing is sent
        assert early["emailed"] == 0 and not inbox.messages
        later = sweep_at(app, "2026-11-25 00:13")
    assert later["emailed"] >= 1 and any(overdue_order in m["Subject"] for m in inbox.messages)
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.kind == "overdue"))
        assert alert.emailed_at is not None and alert.email_next_at is None


def test_a_refused_mail_backs_off_and_is_given_up_after_the_last_attempt(app, overdue_order):
    port = free_port()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    with Inbox(port) as inbox:
        inbox.refuse = True
        sweep_at(app, "2026-11-25 00:10")
        for _ in range(MAIL_ATTEMPTS - 1):  # every retry at the moment it falls due
            with app.app_context():
                due = db.session.scalar(select(Alert.email_next_at).where(Alert.kind == "overdue"))
            assert due is not None
            sweep_at(app, due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"))
        assert not inbox.messages
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.kind == "overdue"))
        assert alert.email_attempts == MAIL_ATTEMPTS and alert.email_next_at is None  # given up
        assert alert.emailed_at is None


def test_retry_delays_double_and_stop():
    start = sh("2026-11-25 00:00")
    delays = [(mail_retry_at(n, start) - start).total_seconds() / 60 for n in range(1, MAIL_ATTEMPTS)]
    assert delays == [2, 4, 8, 16, 32] and mail_retry_at(MAIL_ATTEMPTS, start) is None


@pytest.mark.parametrize(("text", "expected"), [("a\r\nb", "a b"), ("a\x00b", "a b"), ("a\u2028b", "a b"),
                                                ("  多个   空格 ", "多个 空格")])
def test_header_text_is_one_line(text, expected):
    assert one_line(text) == expected


def test_a_retry_whose_recipient_has_no_address_any_more_stops_being_retried(app, users, overdue_order):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # down: the first send fails
    sweep_at(app, "2026-11-25 00:10")
    with app.app_context(), write_transaction():
        db.session.get(User, users["alice"]).email = ""
    with Inbox(int(app.config["SMTP_URL"].rsplit(":", 1)[1])) as inbox:
        summary = sweep_at(app, "2026-11-25 00:13")
    assert summary["emailed"] == 0 and summary["email_failed"] == 0 and not inbox.messages
    with app.app_context():
        alert = db.session.scalar(select(Alert).where(Alert.kind == "overdue"))
        assert alert.email_next_at is None and alert.emailed_at is None
