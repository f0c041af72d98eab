"""The outbox: every change an applicant should hear of is an event in the change's own
transaction, with a per-order sequence and the applicant's message; the feed pages through them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from console.domain.workflow import Action
from console.extensions import db
from console.models import OutboxEvent
from console.services import orders, outbox, postreview, rule_admin
from console.services.actors import Actor
from console.services.errors import Conflict
from tests.conftest import actor
from tests.factories import order_body
from tests.test_postreview import BOSS, mailing, v


def _events(app, no: str) -> list[tuple[int, str]]:
    with app.app_context():
        return [(e.sequence, e.type) for e in db.session.scalars(
            select(OutboxEvent).where(OutboxEvent.order_no == no).order_by(OutboxEvent.sequence))]


def _data(app, no: str, event_type: str) -> dict:
    with app.app_context():
        return db.session.scalar(select(OutboxEvent.data).where(OutboxEvent.order_no == no,
                                                                OutboxEvent.type == event_type))


def test_the_whole_road_with_mailing_sms_and_the_bureau(app, users):
    mailing(app)  # 海南 wants paper materials
    with app.app_context():
        no = orders.submit(order_body(province="海南"), Actor.portal("t"))[0].order_no
        orders.decide(no, Action.APPROVE, BOSS, expected_version=v(app, no), note="忽略 1 个错误：内部说明")
        postreview.record_shipment(no, "sf", "SF1234567890123", BOSS, expected_version=v(app, no))
        from datetime import UTC, datetime

        postreview.receive_mail(no, datetime.now(UTC).date(), BOSS, expected_version=v(app, no))
        order = orders.get_order(no)
    assert _events(app, no) == [(1, "order.submitted"), (2, "review.approved"), (3, "mailing.requested"),
                                (4, "materials.received")]
    approved = _data(app, no, "review.approved")
    assert "note" not in approved and "内部说明" not in str(approved)  # an internal note stays inside
    assert approved["text"] == f"您的订单 {no}（云栈科技官网）已通过初审。"
    submitted = _data(app, no, "order.submitted")
    assert submitted["state"] == "initial_review" and "due_at" in submitted and "完成初审" in submitted["text"]
    assert order.event_seq == 4


def test_a_return_carries_reasons_and_the_note_and_a_resubmission_continues_the_sequence(app, users):
    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.decide(no, Action.REJECT, BOSS, expected_version=v(app, no), reasons=["info_mismatch"],
                      note="网站名称请与原备案一致")
        orders.resubmit(no, order_body(no, **{"website.name": "云栈科技"}), Actor.portal("t"))
    assert _events(app, no) == [(1, "order.submitted"), (2, "review.returned"), (3, "order.resubmitted")]
    returned = _data(app, no, "review.returned")
    assert returned["reasons"] == [{"code": "info_mismatch", "label": "信息与原备案不一致"}]
    assert returned["note"] == "网站名称请与原备案一致"
    assert "信息与原备案不一致" in returned["text"] and "网站名称请与原备案一致" in returned["text"]


def test_bureau_approval_carries_the_filing_number(app, users):
    with app.app_context():
        no = orders.submit(order_body(submitted_at="2018-09-09T10:00:00+08:00"), Actor.portal("t"))[0].order_no
        orders.decide(no, Action.APPROVE, BOSS, expected_version=v(app, no))
        postreview.bureau_approve(no, "浙ICP备12345678号-1", BOSS, expected_version=v(app, no))
    assert [t for _, t in _events(app, no)] == ["order.submitted", "review.approved", "bureau.submitted",
                                                "bureau.approved"]
    approved = _data(app, no, "bureau.approved")
    assert approved["filing_number"] == "浙ICP备12345678号-1" and "浙ICP备12345678号-1" in approved["text"]


def test_a_refused_change_writes_no_event(app, users):
    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        stale = v(app, no)
        orders.claim(no, actor(app, users["alice"]))
        with pytest.raises(Conflict):
            orders.decide(no, Action.APPROVE, BOSS, expected_version=stale)
    assert _events(app, no) == [(1, "order.submitted")]


def test_calls_notes_claims_and_corrections_are_not_news_for_the_applicant(app, users):
    from console.services import workbench

    alice = actor(app, users["alice"])
    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.claim(no, alice)
        workbench.log_call(no, "13800138000", False, "无人接听", alice)
        workbench.add_note(no, "内部备注", alice)
    assert _events(app, no) == [(1, "order.submitted")]


def test_a_changed_limit_tells_open_orders_their_new_deadline(app, users):
    with app.app_context():
        nos = [orders.submit(order_body(), Actor.portal("t"))[0].order_no for _ in range(3)]
        rule_admin.set_sla("initial_review", 3, "working_days", BOSS)
    for no in nos:
        assert _events(app, no) == [(1, "order.submitted"), (2, "deadline.changed")]
        assert "预计完成时间调整为" in _data(app, no, "deadline.changed")["text"]
    with app.app_context():  # the same limit again moves nothing and says nothing
        rule_admin.set_sla("initial_review", 3, "working_days", BOSS)
        assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 6


def test_the_feed_pages_in_order_with_its_cursor(app, users, api):
    with app.app_context():
        nos = [orders.submit(order_body(), Actor.portal("t"))[0].order_no for _ in range(5)]
    first = api.get("/events?limit=2").get_json()
    assert [e["order_no"] for e in first["events"]] == nos[:2]
    assert set(first["events"][0]) == {"id", "type", "order_no", "sequence", "at", "data"}
    rest = api.get(f"/events?after={first['next']}&limit=1000").get_json()
    assert [e["order_no"] for e in rest["events"]] == nos[2:]
    empty = api.get(f"/events?after={rest['next']}").get_json()
    assert empty == {"events": [], "next": rest["next"]}


@pytest.mark.parametrize("query", ["after=-1", "after=abc", "after=99999999999999999999", "limit=0", "limit=1001",
                                   "limit=1e3", "after=%00", "after=１２"])
def test_bad_feed_parameters_get_a_clear_422(app, users, api, query):
    answer = api.get(f"/events?{query}")
    assert answer.status_code == 422 and answer.get_json()["fields"]


def test_the_feed_needs_a_token(app, users):
    assert app.test_client().get("/api/v1/events").status_code == 401


def test_concurrent_changes_to_one_order_never_share_a_sequence(app, users):
    import threading

    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
    barrier = threading.Barrier(2)
    outcomes = []

    def terminate(action):
        with app.app_context():
            barrier.wait()
            try:
                orders.terminate(no, action, Actor.portal("t"))
                outcomes.append("ok")
            except Exception as exc:
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=terminate, args=(a,)) for a in (Action.ABANDON, Action.REVOKE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    events = _events(app, no)
    assert [s for s, _ in events] == [1, 2] and events[1][1] in ("order.abandoned", "order.revoked")


def test_the_message_follows_the_supervisors_template(app, users):
    with app.app_context():
        outbox.save_text("order.submitted", "已收到 {order_no}，主办单位 {subject}。", actor_id=users["carol"])
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
    assert _data(app, no, "order.submitted")["text"] == f"已收到 {no}，主办单位 杭州云栈科技有限公司。"
