"""The registry of earlier filings in real Chromium: an admin uploads a file, reads the preview,
writes it, and the open order of a subject it names is flagged at once; axe and 390 px hold."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from console.services import orders
from console.services.actors import Actor
from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.factories import order_body
from tests.test_registry import YUNZHAN, registry_csv

pytestmark = pytest.mark.browser


def _serious(page) -> list:
    return [(v["id"], [n["target"] for n in v["nodes"][:3]]) for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")]


def test_an_admin_imports_filings_and_the_subjects_open_order_is_flagged(app, users, live, chromium, tmp_path):
    with app.app_context():
        orders.submit(order_body("JR-BROWSER-REG"), Actor.portal("t"))
    upload = tmp_path / "存量备案.csv"
    upload.write_bytes(registry_csv([*YUNZHAN[:3], "浙ICP备12345678号-7", "云栈商城", "shop.yunzhan.cn", "正常"],
                                    ["某公司", "", "浙ICP备12345678号", "浙ICP备12345678号-8", "站", "", ""]))
    page = sign_in(chromium, live, "dave", PASSWORD)
    page.goto(f"{live.url}/admin/filings")
    page.set_input_files("#file", str(upload))
    page.click("#registry-form button[type=submit]")
    expect(page.locator("#apply-btn")).to_have_text("确认写入 1 行")
    expect(page.locator('tr[data-status="error"]')).to_contain_text("缺少证件号码")
    assert _serious(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("#apply-btn")
    expect(page.locator("#import-done")).to_contain_text("重新检查了 1 个待初审订单")
    assert _serious(page) == []
    page.goto(f"{live.url}/admin/users")
    page.click("text=备案登记")
    page.fill("#registry-q", "91330106ma2b3c4d5d")
    page.press("#registry-q", "Enter")
    expect(page.locator("#registry-results tbody tr")).to_have_count(1)
    page.goto(f"{live.url}/orders/JR-BROWSER-REG")
    expect(page.locator('[data-check="filing_type"]').first).to_contain_text("浙ICP备12345678号-7")
    assert not page.js_errors, page.js_errors
