"""Every staff-facing change carries the version its page showed; a stale one gets 409 and
changes nothing (no row, no history, no shipment), whatever the change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from console.database import write_transaction
from console.domain.calendar import to_local
from console.domain.workflow import Action
from console.extensions import db
from console.models import OrderEvent, Shipment
from console.services import order_writes, orders, postreview
from console.services.actors import Actor
from tests.conftest import Browser, actor
from tests.factories import order_body
from tests.test_postreview import BOSS, mailing, v

TODAY = to_local(datetime.now(UTC)).date().isoformat()


def _submitted(app, **body) -> str:
    with app.app_context():
        return orders.submit(order_body(**body), Actor.portal("t"))[0].order_no


def _approved(app, no: str) -> str:
    with app.app_context():
        orders.decide(no, Action.APPROVE, BOSS, expected_version=v(app, no))
    return no


def initial_review(app):
    return _submitted(app)


def awaiting_mail(app):
    mailing(app)
    return _approved(app, _submitted(app, province="海南"))


def shipped(app):
    no = awaiting_mail(app)
    with app.app_context():
        postreview.record_shipment(no, "sf", "SF1234567890123", BOSS, expected_version=v(app, no))
    return no


def mail_check(app):
    no = shipped(app)
    with app.app_context():
        postreview.receive_mail(no, to_local(datetime.now(UTC)).date(), BOSS, expected_version=v(app, no))
    return no


def sms_verification(app):
    return _approved(app, _submitted(app))  # 浙江 after its SMS wave


def bureau_review(app):
    return _approved(app, _submitted(app, submitted_at="2018-09-09T10:00:00+08:00"))  # before the wave


#: (name, stage it needs, path under /orders/<no>, form data besides the version; "prefix" names a
#: form whose fields, the version included, carry a prefix)
CHANGES = [
    ("approve", initial_review, "approve", {}),
    ("reject", initial_review, "reject", {"reasons": ["other"], "note": "请补充材料"}),
    ("correct", initial_review, "edit/website", {"website__name": "新的网站名称", "website__domains": "yunzhan.cn",
                                                 "website__filing_number": "", "website__previous_provider": ""}),
    ("recheck", initial_review, "recheck", {}),
    ("unclaim", initial_review, "unclaim", {}),
    ("shipment", awaiting_mail, "shipment", {"courier": "sf", "tracking_no": "SF1234567890123"}),
    ("receive", shipped, "receive", {"received_on": TODAY}),
    ("mail_check", mail_check, "mail-check", {f"item_{i}": "ok" for i in range(5)}),
    ("sms_resend", sms_verification, "sms/resend", {}),
    ("sms_verified", sms_verification, "sms/verified", {"verified_at": f"{TODAY}T00:01"}),
    ("sms_failed", sms_verification, "sms/failed", {"fail-reason": "验证码输错 5 次", "prefix": "fail-"}),
    ("bureau_approve", bureau_review, "bureau/approve", {"filing_number": "浙ICP备12345678号-1"}),
    ("bureau_reject", bureau_review, "bureau/reject", {"reject-reason": "主办单位证件住所与证件不一致", "prefix": "reject-"}),
]


def _with_version(data: dict, version: int) -> dict:
    data = dict(data)
    return {f"{data.pop('prefix', '')}version": version, **data}


def _trace(app, no: str) -> dict:
    with app.app_context():
        order = orders.get_order(no)
        return {"version": order.version, "state": order.state, "assignee": order.assignee_id,
                "website": order.website_name, "resends": order.sms_resends,
                "events": db.session.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.order_id == order.id)),
                "shipments": db.session.scalar(select(func.count(Shipment.id)).where(Shipment.order_id == order.id))}


@pytest.mark.parametrize(("name", "stage", "path", "data"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_stale_version_is_a_409_that_changes_nothing(app, users, name, stage, path, data):
    no = stage(app)
    with app.app_context():
        orders.claim(no, actor(app, users["alice"]))
    alice = Browser(app, "alice")
    seen = v(app, no)
    with app.app_context(), write_transaction():  # meanwhile someone else changes the order
        order_writes.bump(orders.get_order(no), datetime.now(UTC), expected_version=seen)
    before = _trace(app, no)
    response = alice.post(f"/orders/{no}/{path}", _with_version(data, seen))
    assert response.status_code == 409, (name, response.status_code)
    assert "此订单已被他人修改" in response.get_data(as_text=True)
    assert _trace(app, no) == before


@pytest.mark.parametrize(("name", "stage", "path", "data"), CHANGES, ids=[c[0] for c in CHANGES])
def test_the_current_version_goes_through(app, users, name, stage, path, data):
    """The same requests at the current version are not refused (the table above tests what it says)."""
    no = stage(app)
    with app.app_context():
        orders.claim(no, actor(app, users["alice"]))
    before = _trace(app, no)
    response = Browser(app, "alice").post(f"/orders/{no}/{path}", _with_version(data, before["version"]))
    assert response.status_code == 302, (name, response.status_code, response.get_data(as_text=True)[:300])
    after = _trace(app, no)
    assert after != before or name == "recheck", name  # a recheck that finds nothing new changes nothing


def test_a_reassignment_skips_orders_changed_after_the_page_was_loaded(app, users):
    no = initial_review(app)
    loaded = datetime.now(UTC).timestamp()
    with app.app_context():
        orders.claim(no, actor(app, users["bob"]))  # changed after the supervisor looked
    before = _trace(app, no)
    response = Browser(app, "carol").post("/supervisor/reassign", {
        "order": no, "scope": "selected", "to": str(users["alice"]), "reason": "平衡工作量",
        "snapshot": f"{loaded:.6f}", "back": "/supervisor"})
    assert response.status_code == 302
    assert _trace(app, no) == before
