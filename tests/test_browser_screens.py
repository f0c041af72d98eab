"""Any screen (real Chromium): at 390 px and 768 px no page scrolls sideways, and the navigation,
search and sign-out are reachable through 菜单."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from console.domain.workflow import Action
from console.services import orders, postreview
from console.services.actors import Actor
from tests.browser import sign_in
from tests.conftest import PASSWORD, actor
from tests.factories import order_body
from tests.test_postreview import BOSS, mailing, v

pytestmark = pytest.mark.browser


def _orders(app, users) -> list[str]:
    with app.app_context():
        first = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.claim(first, actor(app, users["dave"]))
    mailing(app)
    with app.app_context():
        posted = orders.submit(order_body(province="海南"), Actor.portal("t"))[0].order_no
        orders.decide(posted, Action.APPROVE, BOSS, expected_version=v(app, posted))
        postreview.record_shipment(posted, "sf", "SF1234567890123", BOSS, expected_version=v(app, posted))
        bureau = orders.submit(order_body(submitted_at="2018-09-09T10:00:00+08:00"), Actor.portal("t"))[0].order_no
        orders.decide(bureau, Action.APPROVE, BOSS, expected_version=v(app, bureau))
    return [first, posted, bureau]


@pytest.mark.parametrize("width", [390, 768])
def test_no_page_scrolls_sideways(app, users, live, chromium, width):
    first, posted, bureau = _orders(app, users)
    page = sign_in(chromium, live, "dave", PASSWORD)
    page.set_viewport_size({"width": width, "height": 844})
    wide = {}
    for path in ["/queues/initial-review", "/queues/mailing", "/queues/bureau", f"/orders/{first}",
                 f"/orders/{posted}", f"/orders/{bureau}", "/search?q=13800138000", "/alerts", "/supervisor",
                 "/settings", "/bureau/imports", "/admin/users", "/admin/webhooks", "/admin/filings", "/settings/texts",
                 "/no-such-page"]:
        page.goto(live.url + path)
        page.wait_for_load_state("networkidle")
        page_width = page.evaluate("document.documentElement.scrollWidth")
        if page_width > width:
            wide[path] = page_width
    assert wide == {}
    assert not page.js_errors, page.js_errors


def test_the_menu_reveals_navigation_search_and_sign_out_at_390(app, users, live, chromium):
    page = sign_in(chromium, live, "carol", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/queues/initial-review")
    sign_out = page.locator(".who button", has_text="退出")
    expect(sign_out).to_be_hidden()
    toggle = page.locator("#menu-toggle")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(sign_out).to_be_visible()
    expect(page.locator("#global-q")).to_be_visible()
    page.locator(".nav a", has_text="邮寄核对").click()
    page.wait_for_url("**/queues/mailing")
    # "/" opens the menu by itself to reach the search box.
    page.keyboard.press("/")
    expect(page.locator("#global-q")).to_be_focused()
    assert not page.js_errors, page.js_errors
