"""Real Chromium: an admin registers a webhook endpoint and copies its secret; a supervisor rewords
an applicant message with a live preview, and the next event carries it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from console.extensions import db
from console.models import OutboxEvent
from console.services import orders
from console.services.actors import Actor
from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.factories import order_body

pytestmark = pytest.mark.browser


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(app, users, live, chromium):
    page = sign_in(chromium, live, "dave", PASSWORD)
    page.goto(f"{live.url}/admin/users")
    page.click("text=Webhook 与事件")
    page.fill("#url", "ftp://portal.example.cn/hooks")
    page.click("#webhook-form button[type=submit]")
    expect(page.locator("#webhook-form .errors")).to_contain_text("https://")
    page.fill("#url", "https://portal.example.cn/hooks")
    page.check("#webhook-form input[value='review.returned']")
    page.click("#webhook-form button[type=submit]")
    expect(page.locator("#new-secret code")).to_have_text(__import__("re").compile(r"^whsec_"))
    row = page.locator("#endpoint-table tr[data-endpoint-id]")
    expect(row).to_contain_text("初审退回")
    page.reload()
    expect(page.locator("#new-secret")).to_have_count(0)
    page.once("dialog", lambda d: d.accept())
    row.locator("button", has_text="停用").click()
    expect(row).to_contain_text("已停用")
    assert not page.js_errors, page.js_errors


def test_a_supervisor_rewords_a_message_with_a_live_preview(app, users, live, chromium):
    page = sign_in(chromium, live, "carol", PASSWORD)
    page.goto(f"{live.url}/settings")
    page.click("#texts-link")
    box = page.locator("#template-order-submitted")
    box.fill("已收到您的订单 {order_no}，请留意 {deadline}的初审结果")
    expect(page.locator("#preview-order-submitted")).to_contain_text("已收到您的订单 JR2026112800001")
    box.fill("坏模板 {unknown}")
    expect(page.locator("#preview-order-submitted")).to_contain_text("未知的占位符")
    box.fill("已收到您的订单 {order_no}。")
    page.locator("#text-order-submitted button", has_text="保存").click()
    expect(page.locator("#toasts .flash.success")).to_contain_text("「订单已提交」的消息已保存")
    expect(page.locator("#text-order-submitted .tag")).to_have_text("已修改")
    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        assert db.session.scalar(select(OutboxEvent.data).where(OutboxEvent.order_no == no))["text"] == \
            f"已收到您的订单 {no}。"
    assert not page.js_errors, page.js_errors
