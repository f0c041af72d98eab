"""After a decision the specialist goes where they chose: the next order of the same queue under
the filters they were using (claimed for them), the queue, or the decided order."""

from __future__ import annotations

import pytest

from console.extensions import db
from console.models import User
from console.services import orders
from tests.conftest import Browser, actor
from tests.test_postreview import v
from tests.test_supervisor import submit


def _three(app, users):
    """Two 浙江 orders and, more urgent than both, a 江苏 one; alice holds the first 浙江 order."""
    jiangsu = submit(app, province="江苏", submitted_at="2026-11-20T09:00:00+08:00")
    first = submit(app, province="浙江", submitted_at="2026-11-23T09:00:00+08:00")
    second = submit(app, province="浙江", submitted_at="2026-11-24T09:00:00+08:00")
    with app.app_context():
        orders.claim(first, actor(app, users["alice"]))
    return jiangsu, first, second


def _choose(app, user_id: int, choice: str) -> None:
    with app.app_context():
        db.session.get(User, user_id).after_decision = choice
        db.session.commit()


def test_by_default_the_next_order_of_the_filtered_queue_is_claimed_and_opened(app, users):
    jiangsu, first, second = _three(app, users)
    alice = Browser(app, "alice")
    alice.get("/queues/initial-review?province=浙江")  # the filters she works under
    answer = alice.post(f"/orders/{first}/approve", {"version": v(app, first)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/orders/{second}")
    with app.app_context():
        assert orders.get_order(second).assignee_id == users["alice"]
        assert orders.get_order(jiangsu).assignee_id is None  # more urgent, but not under her filter
    page = alice.get(f"/orders/{second}").get_data(as_text=True)
    assert f"{first} 初审已通过。已领取下一单 {second}" in page
    assert 'href="/queues/initial-review?province=%E6%B5%99%E6%B1%9F"' in page  # back to the filtered queue


def test_an_empty_filtered_queue_leads_back_to_it_with_a_message(app, users):
    _, first, second = _three(app, users)
    with app.app_context():
        orders.claim(second, actor(app, users["bob"]))
    alice = Browser(app, "alice")
    alice.get("/queues/initial-review?province=浙江")
    answer = alice.post(f"/orders/{first}/reject", {"version": v(app, first), "reasons": "other", "note": "补充材料"})
    assert answer.headers["Location"].endswith("/queues/initial-review?province=%E6%B5%99%E6%B1%9F")
    assert "队列中没有可领取的订单了" in alice.get(answer.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(("choice", "target"), [("queue", "/queues/initial-review?province=%E6%B5%99%E6%B1%9F"),
                                                ("stay", None)])
def test_the_other_choices_lead_to_the_queue_or_stay(app, users, choice, target):
    _, first, second = _three(app, users)
    _choose(app, users["alice"], choice)
    alice = Browser(app, "alice")
    alice.get("/queues/initial-review?province=浙江")
    answer = alice.post(f"/orders/{first}/approve", {"version": v(app, first)})
    assert answer.headers["Location"].endswith(target or f"/orders/{first}")
    with app.app_context():
        assert orders.get_order(second).assignee_id is None  # nothing claimed on her behalf


def test_the_choice_is_saved_from_the_workspace_and_bad_values_are_refused(app, users):
    _, first, _ = _three(app, users)
    alice = Browser(app, "alice")
    assert 'id="after-decision-choice"' in alice.get(f"/orders/{first}").get_data(as_text=True)
    saved = alice.post("/account/after-decision", {"after_decision": "queue"}, htmx=True)
    assert saved.status_code == 200 and "已保存" in saved.get_data(as_text=True)
    for bad in ("elsewhere", "", "next\x00"):
        refused = alice.post("/account/after-decision", {"after_decision": bad}, htmx=True)
        assert refused.status_code == 422 and "未保存" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, users["alice"]).after_decision == "queue"
    assert alice.post("/account/after-decision", {"after_decision": "stay"}, csrf=False).status_code == 400
