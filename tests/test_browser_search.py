"""Global search in real Chromium: an applicant phones about an approved order; the specialist
presses /, types the phone number, moves to the hit with the keyboard and opens it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.test_search import _approved_order, _others

pytestmark = pytest.mark.browser


def test_an_approved_order_is_found_by_phone_from_any_page_with_the_keyboard(app, users, live, chromium):
    no = _approved_order(app)
    _others(app)
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.keyboard.press("/")
    expect(page.locator("#global-q")).to_be_focused()
    page.keyboard.type("13912345678")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=13912345678")
    rows = page.locator("#search-table tr[data-order-no]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("接入成功")
    expect(rows.first).to_contain_text("联系电话")
    # Typing on the search page refines in place (no reload), and ↓ then Enter opens the hit.
    page.fill("#search-q", "例子.cn")
    expect(page.locator("#search-table tr[data-order-no]").first).to_contain_text("域名")
    page.locator("#search-q").press("ArrowDown")
    expect(page.locator("#search-table tr.cursor")).to_have_count(1)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/orders/{no}")
    expect(page.locator("h1")).to_contain_text(no)
    assert not page.js_errors, page.js_errors


def test_a_search_without_hits_says_what_can_be_searched(app, users, live, chromium):
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.goto(f"{live.url}/search?q=查无此单位有限公司")
    expect(page.locator("#search-empty")).to_contain_text("没有找到")
    assert not page.js_errors, page.js_errors
