"""初审 in real headless Chromium: queue filters, claim next, findings, correction, decisions."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.services import orders
from console.services.actors import Actor
from tests.browser import sign_in, stay_after_decisions
from tests.conftest import PASSWORD
from tests.factories import order_body

pytestmark = pytest.mark.browser


def submit(app, **kw) -> str:
    with app.app_context():
        return orders.submit(order_body(**kw), Actor.portal("test"))[0].order_no


def state_of(app, no) -> str:
    with app.app_context():
        return orders.get_order(no).state


def test_a_specialist_clears_the_initial_review_queue(app, users, live, chromium, tmp_path):
    shots = tmp_path
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    flawed = submit(app, submitted_at=now - timedelta(days=3), **{
        "subject.name": "杭州星河网络科技有限公司",
        "subject.mailing_address.province": "江苏", "subject.mailing_address.city": "南京市",
        "subject.mailing_address.district": "鼓楼区", "subject.mailing_address.detail": "中山北路"})
    clean = submit(app, submitted_at=now - timedelta(hours=5), province="北京",
                   **{"subject.name": "北京远航信息技术有限公司"})
    other = submit(app, submitted_at=now - timedelta(hours=2), province="广东",
                   **{"subject.name": "深圳蓝海科技有限公司", "website.domains": ["lanhai.cn"]})

    page = sign_in(chromium, live, "alice", PASSWORD)
    assert page.locator("tr[data-order-no]").count() == 3

    # Filter by province, then by search text: the URL follows (bookmarkable).
    page.select_option("select[name=province]", "广东")
    page.wait_for_url("**province=**")
    expect(page.locator("tr[data-order-no]")).to_have_count(1)
    expect(page.locator(f"tr[data-order-no='{other}']")).to_be_visible()
    page.select_option("select[name=province]", "")
    page.fill("#q", "远航")
    page.wait_for_url("**q=**")
    expect(page.locator("tr[data-order-no]")).to_have_count(1)
    expect(page.locator(f"tr[data-order-no='{clean}']")).to_be_visible()
    page.fill("#q", "")
    expect(page.locator("tr[data-order-no]")).to_have_count(3)
    page.screenshot(path=str(shots / "queue.png"))

    # Claim next: the most urgent order opens.
    page.click("#claim-next")
    page.wait_for_url(f"**/orders/{flawed}")
    assert page.locator('#findings li[data-check="same_province"][data-severity="error"]').count() == 1
    assert page.locator('#findings li[data-check="house_number"][data-severity="error"]').count() == 1
    page.screenshot(path=str(shots / "workspace.png"), full_page=True)

    # Correct the mailing address: the findings update in place.
    page.click("#sec-subject a.btn")
    page.wait_for_selector("#sec-subject form")
    page.select_option("select[name=subject__mailing_address__province]", "浙江")
    page.fill("input[name=subject__mailing_address__city]", "杭州市")
    page.fill("input[name=subject__mailing_address__district]", "西湖区")
    page.fill("input[name=subject__mailing_address__detail]", "文三路90号")
    page.fill("input[name=edit_note]", "电话确认通讯地址")
    page.click("#sec-subject button[type=submit]")
    page.wait_for_selector('#findings li[data-check="same_province"]', state="detached")
    assert page.locator('#findings li[data-check="house_number"]').count() == 0
    assert page.locator("#history li[data-action=edit]").count() == 1

    # Reject with a coded reason: the order leaves the queue, and the next one opens, claimed.
    page.check("#reject-form input[value=info_mismatch]")
    page.fill("#reject-form textarea[name=note]", "网站名称请与原备案一致后重新提交")
    page.click("#reject-btn")
    page.wait_for_url(f"**/orders/{clean}")
    expect(page.locator(".flash.success")).to_contain_text(f"{flawed} 已驳回")
    assert state_of(app, flawed) == "returned"
    expect(page.locator("#order-state")).to_have_attribute("data-state", "initial_review")

    # Approve it: it goes to SMS verification (北京, today), and the last order of the queue opens.
    page.click("#approve-btn")
    page.wait_for_url(f"**/orders/{other}")
    assert state_of(app, clean) == "sms_verification"
    page.goto(f"{live.url}/queues/initial-review")
    expect(page.locator("tr[data-order-no]")).to_have_count(1)
    expect(page.locator(f"tr[data-order-no='{other}'] td.assignee")).to_contain_text("审核员甲")
    assert page.js_errors == [], "\n".join(page.js_errors)


def test_approval_with_mailing_goes_to_awaiting_mail(app, users, live, chromium):
    from console.database import write_transaction
    from console.extensions import db
    from console.models import ProvinceRuleRow

    with app.app_context(), write_transaction():
        db.session.add(ProvinceRuleRow(province="海南", mailing_required=True, mailing_items=[],
                                       mailing_address="海口市"))
    no = submit(app, province="海南")
    stay_after_decisions(app, users["bob"])
    page = sign_in(chromium, live, "bob", PASSWORD)
    page.goto(f"{live.url}/orders/{no}")
    page.click("#claim-btn")
    assert page.locator("#approve-form input[name=mailing_required]").is_checked()
    page.click("#approve-btn")
    page.wait_for_selector("#order-state[data-state=awaiting_mail]")
    assert state_of(app, no) == "awaiting_mail"


def test_keyboard_moves_opens_and_claims(app, users, live, chromium):
    first = submit(app)
    submit(app)
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.keyboard.press("j")
    assert page.locator("tr.cursor").get_attribute("data-order-no") == first
    page.keyboard.press("c")
    page.wait_for_selector(f"tr[data-order-no='{first}'] td.assignee:has-text('审核员甲')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/orders/{first}")
    page.keyboard.press("?")
    assert page.locator("#keys-help").is_visible()
