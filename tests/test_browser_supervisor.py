"""A supervisor moves a filtered queue to a specialist in real headless Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.services import orders
from console.services.actors import Actor
from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.factories import order_body

pytestmark = pytest.mark.browser


def test_filter_select_all_and_reassign_with_a_reason(app, users, live, chromium, tmp_path):
    shots = tmp_path
    with app.app_context():
        jiangsu = [orders.submit(order_body(province="江苏"), Actor.portal("t"))[0].order_no for _ in range(3)]
        other = orders.submit(order_body(province="广东"), Actor.portal("t"))[0].order_no

    page = sign_in(chromium, live, "carol", PASSWORD)
    page.select_option("select[name=province]", "江苏")
    expect(page.locator("tr[data-order-no]")).to_have_count(3)
    expect(page.locator("#bulk-all")).to_contain_text("3")
    page.check("#select-page")
    page.select_option("#bulk-form select[name=to]", str(users["alice"]))
    page.fill("#bulk-form input[name=reason]", "江苏订单集中处理")
    page.click("#bulk-selected")
    expect(page.locator(".flash.success")).to_contain_text("已转派 3 单")
    with app.app_context():
        assert {orders.get_order(n).assignee_id for n in jiangsu} == {users["alice"]}
        assert orders.get_order(other).assignee_id is None

    page.goto(f"{live.url}/supervisor")
    row = page.locator(f"#workload tr[data-user-id='{users['alice']}']")
    expect(row.locator("a", has_text="3")).to_be_visible()
    page.screenshot(path=str(shots / "supervisor.png"), full_page=True)

    specialist = sign_in(chromium, live, "alice", PASSWORD)
    specialist.goto(f"{live.url}/queues/initial-review?assignee=me")
    expect(specialist.locator("tr[data-order-no]")).to_have_count(3)
    assert page.js_errors == [] and specialist.js_errors == []
