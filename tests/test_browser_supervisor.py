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


def test_releasing_everything_asks_with_the_count_and_can_be_undone(app, users, live, chromium):
    from tests.conftest import actor

    with app.app_context():
        nos = [orders.submit(order_body(), Actor.portal("t"))[0].order_no for _ in range(3)]
        for no in nos:
            orders.claim(no, actor(app, users["alice"]))
    page = sign_in(chromium, live, "carol", PASSWORD)
    page.goto(f"{live.url}/supervisor")
    release = page.locator(f"#workload tr[data-user-id='{users['alice']}'] button", has_text="全部放回")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    release.click()
    page.wait_for_timeout(300)
    assert questions and "3 单" in questions[0]
    with app.app_context():  # declined: nothing moved
        assert {orders.get_order(n).assignee_id for n in nos} == {users["alice"]}
    page.once("dialog", lambda d: answer(d, True))
    release.click()
    expect(page.locator("#undo-move")).to_contain_text("刚刚转派了 3 个订单")
    with app.app_context():
        assert {orders.get_order(n).assignee_id for n in nos} == {None}
    page.click("#undo-move-button")
    expect(page.locator(".flash.success")).to_contain_text("已撤销批量转派：3 单")
    with app.app_context():
        assert {orders.get_order(n).assignee_id for n in nos} == {users["alice"]}
    assert page.js_errors == []


def test_a_save_far_down_the_settings_page_says_so_inside_the_viewport(app, users, live, chromium):
    page = sign_in(chromium, live, "carol", PASSWORD)
    page.goto(f"{live.url}/settings")
    page.locator("#general button:has-text('保存')").click()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.scrollY") > 300  # the redirect went back to the section
    toast = page.locator("#toasts .flash.success")
    expect(toast).to_contain_text("已保存")
    box = toast.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]
    page.locator("#toasts .toast-close").click()
    expect(toast).to_have_count(0)
    assert page.js_errors == []
