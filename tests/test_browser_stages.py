"""After 初审 in real headless Chromium: mailing rounds, SMS, the bureau's result."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.database import write_transaction
from console.domain.workflow import Action
from console.extensions import db
from console.models import ProvinceRuleRow
from console.services import orders
from console.services.actors import Actor
from tests.browser import sign_in, stay_after_decisions
from tests.conftest import PASSWORD, actor
from tests.factories import order_body

pytestmark = pytest.mark.browser


def test_mailing_rounds_sms_and_bureau_approval(app, users, live, chromium, tmp_path):
    shots = tmp_path
    with app.app_context():
        with write_transaction():
            db.session.add(ProvinceRuleRow(province="海南", mailing_required=True, mailing_items=[],
                                           mailing_address="海口市龙华区滨海大道99号 备案资料收件组"))
        no = orders.submit(order_body(province="海南"), Actor.portal("t"))[0].order_no
        orders.decide(no, Action.APPROVE, Actor(None, "boss", "supervisor"), expected_version=1)
        orders.claim(no, actor(app, users["alice"]))

    stay_after_decisions(app, users["alice"])
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.goto(f"{live.url}/orders/{no}")
    expect(page.locator("#order-state")).to_have_attribute("data-state", "awaiting_mail")

    # Round 1: shipment, receipt, a failed item.
    page.select_option("#shipment-form select[name=courier]", "sf")
    page.fill("#shipment-form input[name=tracking_no]", "SF1234567890123")
    page.click("#shipment-form button[type=submit]")
    page.click("#receive-form button[type=submit]")
    expect(page.locator("#order-state")).to_have_attribute("data-state", "mail_check")
    page.check("#check-item-0 input[value=defective]")
    page.fill("#check-item-0 input[type=text]", "未加盖公章")
    page.check("#check-item-1 input[value=ok]")
    page.check("#check-item-2 input[value=ok]")
    page.click("#check-btn")
    expect(page.locator("#order-state")).to_have_attribute("data-state", "awaiting_mail")
    expect(page.locator("#mail-rounds li[data-round='1']")).to_contain_text("核对不通过")

    # Round 2: everything fine; the province needs SMS today.
    page.select_option("#shipment-form select[name=courier]", "ems")
    page.fill("#shipment-form input[name=tracking_no]", "EA123456789CN")
    page.click("#shipment-form button[type=submit]")
    page.click("#receive-form button[type=submit]")
    for i in range(3):
        page.check(f"#check-item-{i} input[value=ok]")
    page.click("#check-btn")
    expect(page.locator("#order-state")).to_have_attribute("data-state", "sms_verification")
    with app.app_context():  # leaving the mailing queue released the order; the specialist takes it again
        orders.claim(no, actor(app, users["alice"]))
    page.reload()
    page.click("#sms-verified-btn")
    expect(page.locator("#order-state")).to_have_attribute("data-state", "bureau_review")

    # An invalid filing number shows the error at the field; then the right one.
    page.fill("#bureau-approve-form input[name=filing_number]", "京ICP备12345678号-1")
    page.click("#bureau-approve-btn")
    expect(page.locator("#field-filing_number .errors")).to_contain_text("琼")
    page.screenshot(path=str(shots / "bureau.png"), full_page=True)
    page.fill("#bureau-approve-form input[name=filing_number]", "琼ICP备12345678号-1")
    page.click("#bureau-approve-btn")
    expect(page.locator("#order-state")).to_have_attribute("data-state", "approved")
    assert page.js_errors == [], page.js_errors
