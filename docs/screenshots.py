"""Regenerate the README's screenshots from demo data in headless Chromium.

    python docs/screenshots.py

Seeds a fresh SQLite database with the demo data (fixed random seed), serves it on a free local
port and captures the pages under docs/. Needs Debian's chromium (and fonts-noto-cjk).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from console import create_app  # noqa: E402
from console.extensions import db  # noqa: E402
from console.models import Order  # noqa: E402
from console.services.demo import ensure_demo_users, seed  # noqa: E402
from jobs.tasks import sweep_once  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402


def main() -> None:
    folder = tempfile.mkdtemp(prefix="icp-shots-")
    app = create_app({"MODE": "demo", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/demo.sqlite",
                      "SECRET_KEY": "screenshots"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        logins = ensure_demo_users()
        seed(300, random_seed=2026)
        sweep_once()  # what the scheduler would have found by now
        flawed = db.session.scalar(select(Order.order_no).where(Order.state == "initial_review",
                                                                Order.error_count >= 2).limit(1))
    with LiveServer(app) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for user, pages in (("zhangmin", [("queue.png", "/queues/initial-review", False),
                                          ("workspace.png", f"/orders/{flawed}", True),
                                          ("search.png", "/search?q=%E7%BD%91%E7%BB%9C%E7%A7%91%E6%8A%80", False),
                                          ("queue-390.png", "/queues/initial-review", 390),
                                          ("workspace-390.png", f"/orders/{flawed}", 390)]),
                            ("wangfang", [("supervisor.png", "/supervisor", True),
                                          ("bureau-queue.png", "/queues/bureau", False)])):
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page.goto(f"{server.url}/login")
            page.fill("#username", user)
            page.fill("#password", logins[user][1])
            page.click("button[type=submit]")
            page.wait_for_url("**/queues/initial-review")
            for filename, path, full in pages:
                # True: the whole page; False: the first screen; a number: a phone-sized first screen.
                page.set_viewport_size({"width": full, "height": 844} if full not in (True, False)
                                       else {"width": 1440, "height": 900})
                full = full is True
                page.goto(server.url + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(ROOT / "docs" / filename), full_page=full)
                print("wrote", ROOT / "docs" / filename)
        browser.close()


if __name__ == "__main__":
    main()
