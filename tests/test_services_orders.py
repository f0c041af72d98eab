"""Order services: claims under real concurrency, version checks, atomic transitions, history."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from console.domain.workflow import Action
from console.extensions import db
from console.models import Order, OrderEvent
from console.services import orders
from console.services.actors import Actor
from console.services.errors import Conflict, Forbidden
from tests.conftest import Browser, actor
from tests.factories import order_body

PORTAL = Actor.portal("test")


def submit(app, **kw) -> str:
    with app.app_context():
        order, _ = orders.submit(order_body(**kw), PORTAL)
        return order.order_no


def run_together(app, *calls):
    """Start every call at the same instant (a barrier), each in its own thread and app context."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = ("ok", call())
            except Exception as exc:  # the test inspects what each caller got
                results[i] = ("error", exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_claims_started_together_have_exactly_one_winner(app, users):
    no = submit(app)
    alice, bob = actor(app, users["alice"]), actor(app, users["bob"])
    results = run_together(app, lambda: orders.claim(no, alice).assignee_id, lambda: orders.claim(no, bob).assignee_id)
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["error", "ok"], results
    loser = next(r[1] for r in results if r[0] == "error")
    assert isinstance(loser, Conflict) and "已被" in loser.message
    with app.app_context():
        claims = db.session.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.action == "claim"))
        assert claims == 1
        winner = next(r[1] for r in results if r[0] == "ok")
        assert db.session.scalar(select(Order.assignee_id)) == winner


def test_many_claim_next_calls_at_once_never_hand_out_an_order_twice(app, users):
    for _ in range(3):
        submit(app)
    people = [actor(app, users[name]) for name in ("alice", "bob", "carol", "dave")]
    results = run_together(app, *[lambda a=a: getattr(orders.claim_next("initial-review", a), "order_no", None)
                                  for a in people])
    assert all(r[0] == "ok" for r in results), results
    taken = [r[1] for r in results if r[1]]
    assert len(taken) == 3 and len(set(taken)) == 3
    assert [r[1] for r in results].count(None) == 1


def test_claim_next_takes_the_most_urgent_unassigned_order(app, users):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    late = submit(app, submitted_at=now - timedelta(days=6))
    submit(app, submitted_at=now - timedelta(hours=1))
    with app.app_context():
        assert orders.claim_next("initial-review", actor(app, users["alice"])).order_no == late


def test_a_stale_version_is_refused_and_changes_nothing(app, users):
    no = submit(app)
    alice = actor(app, users["alice"])
    with app.app_context():
        order = orders.claim(no, alice)
        seen = order.version
        orders.decide(no, Action.REJECT, alice, expected_version=seen, reasons=["other"], note="x")
    with app.app_context(), pytest.raises(Conflict, match="已被他人修改"):
        orders.decide(no, Action.APPROVE, Actor.system(), expected_version=seen)
    with app.app_context():
        assert db.session.scalar(select(Order.state)) == "returned"


def test_two_decisions_at_once_one_succeeds_one_gets_409_history_shows_one(app, users):
    no = submit(app)
    alice, carol = actor(app, users["alice"]), actor(app, users["carol"])
    with app.app_context():
        version = orders.claim(no, alice).version
    results = run_together(
        app,
        lambda: orders.decide(no, Action.APPROVE, alice, expected_version=version).state,
        lambda: orders.decide(no, Action.REJECT, carol, expected_version=version, reasons=["other"], note="n").state,
    )
    assert sorted(r[0] for r in results) == ["error", "ok"], results
    assert isinstance(next(r[1] for r in results if r[0] == "error"), Conflict)
    with app.app_context():
        decisions = db.session.scalar(
            select(func.count(OrderEvent.id)).where(OrderEvent.action.in_(["approve", "reject"])))
        assert decisions == 1


def test_a_specialist_may_not_decide_an_order_assigned_to_someone_else(app, users):
    no = submit(app)
    with app.app_context():
        version = orders.claim(no, actor(app, users["alice"])).version
    with app.app_context(), pytest.raises(Forbidden):
        orders.decide(no, Action.APPROVE, actor(app, users["bob"]), expected_version=version)
    with app.app_context():  # a supervisor may
        assert orders.decide(no, Action.APPROVE, actor(app, users["carol"]), expected_version=version).state \
            == "sms_verification"


def test_a_failed_transition_leaves_nothing_half_done(app, users, monkeypatch):
    no = submit(app)
    from console.services import order_writes as module

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    with app.app_context():
        version = orders.get_order(no).version
        monkeypatch.setattr(module, "record", boom)  # the history write fails after the row moved
        with pytest.raises(RuntimeError):
            orders.decide(no, Action.APPROVE, Actor.system(), expected_version=version)
    with app.app_context():
        order = orders.get_order(no)
        assert order.state == "initial_review" and order.version == version


def test_every_transition_is_recorded_with_actor_and_states(app, users):
    no = submit(app)
    carol = actor(app, users["carol"])
    with app.app_context():
        order = orders.decide(no, Action.APPROVE, carol, expected_version=1, mailing_required=True)
        assert order.state == "awaiting_mail" and order.mailing_required is True
        event = db.session.scalar(select(OrderEvent).where(OrderEvent.action == "approve"))
        assert (event.actor_id, event.from_state, event.to_state) == (users["carol"], "initial_review", "awaiting_mail")
        assert order.due_at is not None and order.stage_entered_at == event.at


def test_leaving_a_queue_releases_the_assignee(app, users):
    no = submit(app)
    alice = actor(app, users["alice"])
    with app.app_context():
        version = orders.claim(no, alice).version
        order = orders.decide(no, Action.APPROVE, alice, expected_version=version)
        assert order.state == "sms_verification" and order.assignee_id is None


def _rejected_by(app, users, who: str) -> str:
    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.claim(no, actor(app, users[who]))
        orders.decide(no, Action.REJECT, actor(app, users[who]), expected_version=orders.get_order(no).version,
                      reasons=["other"], note="请补充材料")
    return no


def _resubmitted(app, no: str) -> tuple[str, int | None, int]:
    with app.app_context():
        order = orders.resubmit(no, order_body(no, submitted_at=datetime.now(UTC)), Actor.portal("t"))
        return order.state, order.assignee_id, order.submission_round


def test_a_resubmission_goes_back_to_the_reviewer_who_returned_it(app, users):
    no = _rejected_by(app, users, "alice")
    assert _resubmitted(app, no) == ("initial_review", users["alice"], 2)
    page = Browser(app, "alice").get("/queues/initial-review?assignee=me").get_data(as_text=True)
    assert no in page and "重新提交" in page


@pytest.mark.parametrize("away", ["absent", "deactivated"])
def test_a_resubmission_goes_to_the_pool_when_the_reviewer_is_away(app, users, away):
    from console.domain.calendar import to_local
    from console.services import accounts, supervision

    no = _rejected_by(app, users, "alice")
    with app.app_context():
        if away == "absent":
            today = to_local(datetime.now(UTC)).date()  # absences are in China's days, not the machine's
            supervision.add_absence(users["alice"], today, today, "休假", actor(app, users["carol"]))
        else:
            accounts.set_active(users["alice"], False, actor_id=users["dave"])
    assert _resubmitted(app, no)[1] is None


def test_equal_deadlines_are_first_in_first_out_in_the_queue_and_for_claim_next(app, users):
    from console.services import queues
    from console.services.queues import QueueFilter

    # Tuesday 2026-11-24: both are due at the end of Wednesday; the later one was submitted first.
    second = submit(app, submitted_at="2026-11-24T10:00:00+08:00")
    first = submit(app, submitted_at="2026-11-24T09:00:00+08:00")
    with app.app_context():
        page = queues.queue_page("initial-review", QueueFilter(), users["alice"], limit=1)
        assert page.rows[0].order_no == first and page.rows[0].due_at == orders.get_order(second).due_at
        rest = queues.queue_page("initial-review", QueueFilter(), users["alice"], cursor=page.next_cursor)
        assert [r.order_no for r in rest.rows] == [second]
        assert orders.claim_next("initial-review", actor(app, users["alice"])).order_no == first
