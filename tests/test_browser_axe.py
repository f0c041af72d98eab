"""axe-core (axe-playwright-python, offline) in real Chromium: no serious or critical accessibility
violation on the console's pages, signed out and as an admin (who sees every control)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from console.domain.workflow import Action
from console.services import orders, postreview
from console.services.actors import Actor
from tests.browser import sign_in
from tests.conftest import PASSWORD, actor
from tests.factories import order_body
from tests.test_postreview import BOSS, mailing, v

pytestmark = pytest.mark.browser
SERIOUS = {"serious", "critical"}


def _serious(page) -> list[tuple[str, str, list]]:
    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:5]])
            for v in results.response["violations"] if v["impact"] in SERIOUS]


def test_the_sign_in_page_and_an_error_page_have_no_serious_violation(app, live, chromium):
    page = chromium.new_page(locale="zh-CN")
    page.goto(f"{live.url}/login")
    assert _serious(page) == []
    page.goto(f"{live.url}/no-such-page")
    assert _serious(page) == []


def test_every_page_of_the_console_has_no_serious_violation(app, users, live, chromium):
    with app.app_context():
        first = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.claim(first, actor(app, users["dave"]))
    mailing(app)
    with app.app_context():
        posted = orders.submit(order_body(province="海南"), Actor.portal("t"))[0].order_no
        orders.decide(posted, Action.APPROVE, BOSS, expected_version=v(app, posted))
        bureau = orders.submit(order_body(submitted_at="2018-09-09T10:00:00+08:00"), Actor.portal("t"))[0].order_no
        orders.decide(bureau, Action.APPROVE, BOSS, expected_version=v(app, bureau))
        postreview.record_shipment(posted, "sf", "SF1234567890123", BOSS, expected_version=v(app, posted))
        # the workspace in its other stages: mail check, SMS verification, bureau review, closed
        checking = orders.submit(order_body(province="海南"), Actor.portal("t"))[0].order_no
        orders.decide(checking, Action.APPROVE, BOSS, expected_version=v(app, checking))
        postreview.record_shipment(checking, "sf", "SF1234567890124", BOSS, expected_version=v(app, checking))
        from datetime import UTC, datetime

        postreview.receive_mail(checking, datetime.now(UTC).date(), BOSS, expected_version=v(app, checking))
        sms = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.decide(sms, Action.APPROVE, BOSS, expected_version=v(app, sms))
        closed = orders.submit(order_body(submitted_at="2018-09-09T10:00:00+08:00"), Actor.portal("t"))[0].order_no
        orders.decide(closed, Action.APPROVE, BOSS, expected_version=v(app, closed))
        postreview.bureau_approve(closed, "浙ICP备12345678号-1", BOSS, expected_version=v(app, closed))
    page = sign_in(chromium, live, "dave", PASSWORD)
    found = {}
    for path in ["/queues/initial-review", "/queues/mailing", "/queues/bureau", f"/orders/{first}",
                 f"/orders/{posted}", f"/orders/{bureau}", f"/orders/{checking}", f"/orders/{sms}",
                 f"/orders/{closed}", "/alerts", "/supervisor", "/settings",
                 "/settings?province=北京", "/bureau/imports", "/admin/users", "/admin/webhooks", "/admin/filings",
                 "/settings/texts", "/search",
                 "/search?q=13800138000", "/search?q=没有这个订单"]:
        page.goto(live.url + path)
        page.wait_for_load_state("networkidle")
        problems = _serious(page)
        if problems:
            found[path] = problems
    assert found == {}


def _contrast(first: str, second: str) -> float:
    def luminance(rgb: str) -> float:
        parts = [int(x) / 255 for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_first_tab_reaches_a_skip_link_and_focus_is_clearly_visible(app, users, live, chromium):
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "跳到主要内容"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.focus("#claim-next")
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    width = page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)")
    assert width >= 2 and _contrast(ring, "rgb(255, 255, 255)") >= 3, (ring, width)
