"""The open-work counters (trigger-kept deltas): equal to a count of the orders after every kind of
write — intake, claims, decisions, bulk moves and their undo, termination, deletion — right after
each one, under concurrent claims, and across compaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text

from console.database import write_transaction
from console.domain.workflow import Action
from console.extensions import db
from console.models import Order, WorkCountDelta
from console.services import orders, queues, supervision, workcounts
from console.services.actors import Actor
from console.services.errors import ServiceError
from jobs.tasks import sweep_once
from tests.conftest import actor
from tests.factories import order_body


def same(app) -> None:
    with app.app_context():
        assert sorted(workcounts.open_counts(), key=repr) == sorted(workcounts.recount(), key=repr)


def v(app, no: str) -> int:
    with app.app_context():
        return orders.get_order(no).version


def test_the_counters_follow_every_kind_of_write(app, users):
    portal = Actor.portal("t")
    with app.app_context():
        nos = [orders.submit(order_body(), portal)[0].order_no for _ in range(6)]
    same(app)
    alice, carol = actor(app, users["alice"]), actor(app, users["carol"])
    with app.app_context():
        for no in nos[:4]:
            orders.claim(no, alice)
        assert queues.nav_counts(users["alice"])["initial-review"] == {"mine": 4, "unassigned": 2, "overdue": 0}
    same(app)
    with app.app_context():
        orders.decide(nos[0], Action.APPROVE, alice, expected_version=v(app, nos[0]))  # to the bureau queue
        orders.decide(nos[1], Action.REJECT, alice, expected_version=v(app, nos[1]), reasons=["other"],
                      note="请补充材料")  # out of every queue
        counts = queues.nav_counts(users["alice"])
        assert counts["initial-review"] == {"mine": 2, "unassigned": 2, "overdue": 0}
        assert counts["bureau"]["unassigned"] + counts["bureau"]["mine"] == 1
    same(app)
    with app.app_context():
        result = supervision.reassign(carol, to=str(users["bob"]), reason="均衡", snapshot_at=datetime.now(UTC),
                                      order_nos=nos[2:4])
        assert len(result.moved) == 2
    same(app)
    with app.app_context():
        supervision.undo_reassign(carol, result.at)
    same(app)
    with app.app_context():
        supervision.release_all(users["alice"], carol, to="none", reason="请假")
    same(app)
    with app.app_context():
        orders.terminate(nos[5], Action.REVOKE, portal)
    same(app)
    with app.app_context(), write_transaction():
        db.session.execute(delete(Order).where(Order.order_no == nos[4]))  # even a hand-made delete
    same(app)
    with app.app_context():
        sweep_once()  # compacts
        assert db.session.scalar(select(func.count()).select_from(WorkCountDelta)) == len(workcounts.open_counts())
    same(app)


def test_overdue_counts_follow_the_clock_not_the_writes(app, users):
    with app.app_context():
        no = orders.submit(order_body(submitted_at="2018-09-09T10:00:00+08:00"), Actor.portal("t"))[0].order_no
        assert queues.nav_counts(users["alice"])["initial-review"]["overdue"] == 1
        orders.claim(no, actor(app, users["alice"]))
        assert queues.nav_counts(users["alice"])["initial-review"] == {"mine": 1, "unassigned": 0, "overdue": 1}


def test_concurrent_claims_and_a_compaction_keep_the_counts_exact(app, users):
    with app.app_context():
        nos = [orders.submit(order_body(), Actor.portal("t"))[0].order_no for _ in range(12)]
    people = [actor(app, users[name]) for name in ("alice", "bob", "carol")]
    barrier = threading.Barrier(4)

    def claim_some(person, mine):
        with app.app_context():
            barrier.wait()
            for no in mine:
                with contextlib.suppress(ServiceError):  # someone else was first
                    orders.claim(no, person)
            db.session.remove()

    def compact_meanwhile():
        with app.app_context():
            barrier.wait()
            for _ in range(3):
                with write_transaction():
                    workcounts.compact()
            db.session.remove()

    # every person races for every order: each order ends claimed by exactly one of them
    threads = [threading.Thread(target=claim_some, args=(p, nos)) for p in people]
    threads.append(threading.Thread(target=compact_meanwhile))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    same(app)
    with app.app_context():
        counts = queues.nav_counts(users["alice"])["initial-review"]
        assert counts["unassigned"] == 0
        assert sum(n for *_, n in workcounts.open_counts()) == 12


def test_the_triggers_exist_at_the_newest_migration(app):
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            names = set(db.session.scalars(text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal")))
        else:
            names = set(db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert {"tr_orders_work_insert", "tr_orders_work_update", "tr_orders_work_delete"} <= names


def test_metrics_read_the_counters(app, users):
    with app.app_context():
        old = orders.submit(order_body(submitted_at="2018-09-09T10:00:00+08:00"), Actor.portal("t"))[0].order_no
        orders.submit(order_body(), Actor.portal("t"))
        from console.services import monitoring

        now = datetime.now(UTC)
        figures = monitoring.snapshot(now)
        assert figures["queues"] == [{"queue": "initial-review", "state": "initial_review", "orders": 2}]
        assert figures["per_queue"]["initial-review"]["unclaimed"] == 2
        assert figures["per_queue"]["initial-review"]["overdue"] == 1
        assert figures["per_queue"]["initial-review"]["oldest_unclaimed_age"] > timedelta(days=365).total_seconds()
        orders.claim(old, actor(app, users["alice"]))
        after = monitoring.snapshot(now)["per_queue"]["initial-review"]
        assert after["unclaimed"] == 1 and after["oldest_unclaimed_age"] < timedelta(days=2).total_seconds()


def test_the_board_equals_a_count_of_every_open_order(app, users):
    """The board's figures per person (open per queue, overdue, due soon, oldest) against the same
    figures computed from every open order in Python."""
    from console.domain.workflow import QUEUE_STATES

    portal, alice = Actor.portal("t"), actor(app, users["alice"])
    with app.app_context():
        made = [orders.submit(order_body(submitted_at=at), portal)[0].order_no
                for at in ("2018-09-09T10:00:00+08:00", "2018-09-10T10:00:00+08:00", None, None)]
        orders.claim(made[0], alice)
        orders.claim(made[2], alice)
        orders.decide(made[3], Action.APPROVE, actor(app, users["carol"]), expected_version=v(app, made[3]))
        fresh = orders.get_order(made[2])
        now = fresh.due_soon_at + timedelta(minutes=1)  # the fresh orders are due soon, the old overdue
        people, pool, total = supervision.board(now=now)
        expected: dict = {}
        for o in db.session.scalars(select(Order).where(Order.queue.is_not(None))):
            figures = expected.setdefault(o.assignee_id, {"queues": dict.fromkeys(QUEUE_STATES, 0), "overdue": 0,
                                                          "due_soon": 0, "oldest": None})
            figures["queues"][o.queue] += 1
            figures["overdue"] += o.due_at is not None and o.due_at < now
            figures["due_soon"] += o.due_soon_at is not None and o.due_soon_at <= now <= o.due_at
            if figures["oldest"] is None or o.stage_entered_at < figures["oldest"]:
                figures["oldest"] = o.stage_entered_at
        shown = {r.user_id: r for r in people if r.open} | {None: pool}
        assert set(shown) == set(expected)
        for who, figures in expected.items():
            row = shown[who]
            assert (row.queues, row.overdue, row.due_soon, row.oldest) == \
                (figures["queues"], figures["overdue"], figures["due_soon"], figures["oldest"]), who
        assert total.open == 4 and total.overdue == 2 and total.due_soon >= 1
