"""Desktop notifications (real Chromium): opted in on the alerts page, a new alert found by the
badge's poll raises one notification; without the opt-in, none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from console.extensions import db
from console.models import Alert
from console.services import orders
from console.services.actors import Actor
from tests.browser import sign_in
from tests.conftest import PASSWORD, actor
from tests.factories import order_body

pytestmark = pytest.mark.browser

# Headless Chromium shows no notifications; the page's Notification is replaced by a recorder.
RECORD = """
window.__notes = [];
window.Notification = class { constructor(title, options) { window.__notes.push([title, options.body]); }
  static get permission() { return "granted"; } static requestPermission() { return Promise.resolve("granted"); } };
"""


def _alert_for(app, user_id: int) -> None:
    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        order = orders.claim(no, actor(app, user_id))
        db.session.add(Alert(order_id=order.id, stage_entered_at=order.stage_entered_at, state=order.state,
                             kind="overdue", recipient_id=user_id, created_at=datetime.now(UTC), due_at=order.due_at))
        db.session.commit()


@pytest.mark.parametrize("opted_in", [True, False])
def test_a_new_alert_raises_a_desktop_notification_only_when_opted_in(app, users, live, chromium, opted_in):
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.add_init_script(RECORD)
    page.goto(f"{live.url}/alerts")
    toggle = page.locator("#notify-toggle")
    expect(toggle).to_have_text("开启桌面通知")
    if opted_in:
        toggle.click()
        expect(toggle).to_have_text("关闭桌面通知")
        expect(toggle).to_have_attribute("aria-pressed", "true")
    page.wait_for_load_state("networkidle")  # the badge's first answer: the count to compare with
    _alert_for(app, users["alice"])
    page.evaluate("htmx.trigger(document.body, 'alertsChanged')")
    expect(page.locator("#alert-badge .count")).to_have_text("1")
    notes = page.evaluate("window.__notes")
    assert notes == ([["备案审核台：新提醒", "有 1 条新提醒，共 1 条未确认"]] if opted_in else [])
    assert not page.js_errors, page.js_errors
