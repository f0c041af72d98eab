"""A bulk move can be taken back for 30 seconds: untouched orders return to whoever had them,
orders touched since stay as they are, and nothing else can be undone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import Alert, OrderEvent
from console.services import orders, supervision
from console.services.errors import Invalid
from tests.conftest import Browser, actor
from tests.test_supervisor import submit


def _claimed_by(app, user_id: int, n: int) -> list[str]:
    nos = [submit(app) for _ in range(n)]
    who = actor(app, user_id)
    with app.app_context():
        for no in nos:
            orders.claim(no, who)
    return nos


def _assignees(app, nos):
    with app.app_context():
        return [orders.get_order(no).assignee_id for no in nos]


def test_undo_returns_untouched_orders_and_leaves_touched_ones(app, users):
    nos = _claimed_by(app, users["alice"], 3)
    carol = actor(app, users["carol"])
    with app.app_context():
        moved, skipped, at = supervision.release_all(users["alice"], carol, to=str(users["bob"]), reason="休假")
    assert (moved, skipped) == (3, 0)
    assert _assignees(app, nos) == [users["bob"]] * 3
    with app.app_context():
        orders.unclaim(nos[0], actor(app, users["bob"]))  # bob already gave one back: his change stands
        result = supervision.undo_reassign(carol, at, now=at + timedelta(seconds=10))
    assert result.moved == sorted(nos[1:]) and result.skipped == [nos[0]]
    assert _assignees(app, nos) == [None, users["alice"], users["alice"]]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OrderEvent)
                                 .where(OrderEvent.note == "撤销批量转派")) == 2
        # the move's notices for the restored orders are withdrawn
        assert db.session.scalar(select(func.count()).select_from(Alert).where(Alert.created_at == at,
                                                                               Alert.kind == "reassigned")) == 1


@pytest.mark.parametrize("late", [31, -1])
def test_undo_is_refused_outside_its_window_and_changes_nothing(app, users, late):
    nos = _claimed_by(app, users["alice"], 2)
    carol = actor(app, users["carol"])
    with app.app_context():
        _, _, at = supervision.release_all(users["alice"], carol, to="none", reason="休假")
        with pytest.raises(Invalid):
            supervision.undo_reassign(carol, at, now=at + timedelta(seconds=late))
    assert _assignees(app, nos) == [None, None]


def test_only_the_person_who_moved_can_undo(app, users):
    nos = _claimed_by(app, users["alice"], 2)
    with app.app_context():
        _, _, at = supervision.release_all(users["alice"], actor(app, users["carol"]), to="none", reason="休假")
        with pytest.raises(Invalid):
            supervision.undo_reassign(actor(app, users["dave"]), at, now=at + timedelta(seconds=5))
    assert _assignees(app, nos) == [None, None]


def test_the_next_page_offers_undo_once_and_it_works(app, users):
    nos = _claimed_by(app, users["alice"], 2)
    carol = Browser(app, "carol")
    answer = carol.post(f"/supervisor/release/{users['alice']}", {"to": "none"})
    assert answer.status_code == 302
    page = carol.get("/supervisor").get_data(as_text=True)
    assert 'id="undo-move"' in page and "刚刚转派了 2 个订单" in page
    assert 'id="undo-move"' not in carol.get("/supervisor").get_data(as_text=True)  # offered once
    at = page.split('name="at" value="')[1].split('"')[0]
    done = carol.post("/supervisor/reassign/undo", {"at": at, "back": "/supervisor"})
    assert done.status_code == 302
    assert "已撤销批量转派：2 单" in carol.get("/supervisor").get_data(as_text=True)
    assert _assignees(app, nos) == [users["alice"]] * 2


@pytest.mark.parametrize("at", ["", "yesterday", "2026-11-29T08:00:00", "9999-12-31T23:59:59+00:00", "\x00"])
def test_a_bad_undo_request_is_refused_with_a_message(app, users, at):
    nos = _claimed_by(app, users["alice"], 1)
    carol = Browser(app, "carol")
    answer = carol.post("/supervisor/reassign/undo", {"at": at, "back": "/supervisor"})
    assert answer.status_code == 302
    assert "未撤销" in carol.get("/supervisor").get_data(as_text=True)
    assert _assignees(app, nos) == [users["alice"]]
