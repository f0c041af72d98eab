"""A claim never loses to a filter refresh (real Chromium). Typing a search and then clicking 领取
blurs the search box, which refreshes the list; the server answers that refresh before the claim
commits, and the answer arrives after the claim's. It must not put the unclaimed row back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from console.services import orders
from console.services.actors import Actor
from tests.browser import sign_in, stay_after_decisions
from tests.conftest import PASSWORD, actor
from tests.factories import order_body

pytestmark = pytest.mark.browser


def test_typing_a_search_and_claiming_at_once_keeps_the_claim_visible(app, users, live, chromium):
    with app.app_context():
        wanted = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.submit(order_body(), Actor.portal("t"))
    page = sign_in(chromium, live, "alice", PASSWORD)
    seen, held, released = [], [], []

    def route_filters(route) -> None:
        seen.append(route.request.url)
        if len(seen) == 1 or released:
            route.continue_()  # the search while typing, and anything after the claim: as usual
        else:
            held.append(route)  # the refresh started by the blur: held until the claim is done

    page.route("**/queues/initial-review?*", route_filters)
    page.fill("#q", wanted)
    expect(page.locator("tr[data-order-no]")).to_have_count(1)  # the search has been answered
    stale = page.request.get(seen[0], headers={"HX-Request": "true"}).text()  # the list before the claim
    assert "button" in stale and 'class="btn small claim"' in stale
    page.click(f"tr[data-order-no='{wanted}'] button.claim")
    row = page.locator(f"tr[data-order-no='{wanted}']")
    expect(row.locator("button", has_text="放回")).to_be_visible()
    assert held, "clicking did not refresh the list (the race this test is about did not happen)"
    released.append(True)
    for route in held:  # the answer computed before the claim arrives now
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=stale)
    page.wait_for_timeout(1000)  # the list is asked for again after the claim, and settles
    assert len(seen) == 3, seen  # typing, the blur's refresh (held, not swapped), the refresh after the claim
    expect(row.locator("button", has_text="放回")).to_be_visible()
    expect(row.locator("button.claim")).to_have_count(0)
    with app.app_context():
        assert orders.get_order(wanted).assignee_id == users["alice"]
    assert not page.js_errors, page.js_errors


def test_a_stale_rejection_keeps_the_note_says_what_changed_and_goes_through_on_the_next_click(
        app, users, live, chromium):
    from console.services import workbench
    from tests.conftest import actor

    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.claim(no, actor(app, users["alice"]))
    stay_after_decisions(app, users["alice"])
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.goto(f"{live.url}/orders/{no}")
    page.check("#reject-form input[name=reasons][value=other]")
    page.fill("#reject-form textarea[name=note]", "请补充主办单位证件住所的说明，并重新上传营业执照。")
    with app.app_context():  # meanwhile a supervisor corrects the website's name after a call
        version = orders.get_order(no).version
        workbench.correct(no, {"website.name": "云栈官网"}, actor(app, users["carol"]), expected_version=version)
    page.click("#reject-btn")
    banner = page.locator("#conflict-banner")
    expect(banner).to_contain_text("此订单已被他人修改")
    expect(banner).to_contain_text("修改信息")  # what changed, from the history
    assert banner.inner_text().count("已被他人修改") == 1  # said once
    note = page.locator("#reject-form textarea[name=note]")
    expect(note).to_have_value("请补充主办单位证件住所的说明，并重新上传营业执照。")
    page.click("#reject-btn")  # one click applies it to the order as it is now
    expect(page.locator("#order-state")).to_have_attribute("data-state", "returned")
    with app.app_context():
        assert orders.get_order(no).state == "returned"
    assert not page.js_errors, page.js_errors


def _claimed_workspace(app, users, live, chromium):
    from tests.conftest import actor

    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.claim(no, actor(app, users["alice"]))
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.goto(f"{live.url}/orders/{no}")
    return page, no


def test_a_note_lost_on_the_network_is_said_and_sent_again_with_retry(app, users, live, chromium):
    from console.services import workbench

    page, no = _claimed_workspace(app, users, live, chromium)
    page.route("**/notes", lambda route: route.abort("connectionreset"))
    page.fill("#notes textarea[name=text]", "申请人来电：营业执照已重新上传")
    page.click("#notes button[type=submit]")
    banner = page.locator("#request-error")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("网络连接中断")
    expect(page.locator("#notes textarea[name=text]")).to_have_value("申请人来电：营业执照已重新上传")
    page.unroute("**/notes")
    page.click("#request-retry")
    expect(banner).to_be_hidden()
    expect(page.locator("#notes")).to_contain_text("营业执照已重新上传")
    with app.app_context():
        assert [n.text for n in workbench.notes(orders.get_order(no))] == ["申请人来电：营业执照已重新上传"]


def test_a_refused_csrf_token_shows_a_banner_and_leaves_the_panel_in_place(app, users, live, chromium):
    page, _no = _claimed_workspace(app, users, live, chromium)
    page.evaluate("""() => {  // the session's token is replaced everywhere, as after a server restart
        document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRFToken': 'forged'}));
        document.querySelectorAll('input[name=csrf_token]').forEach((input) => { input.value = 'forged'; });
    }""")
    page.fill("#notes textarea[name=text]", "这条备注不会被保存")
    page.click("#notes button[type=submit]")
    banner = page.locator("#request-error")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("安全校验失败")
    expect(page.locator("#notes textarea[name=text]")).to_have_value("这条备注不会被保存")  # the panel stayed
    expect(page.locator("#notes form")).to_have_count(1)


def test_releasing_all_of_a_persons_orders_asks_first_with_the_count(app, users, live, chromium):
    from tests.conftest import actor

    with app.app_context():
        mine = [orders.submit(order_body(), Actor.portal("t"))[0].order_no for _ in range(3)]
        for no in mine:
            orders.claim(no, actor(app, users["alice"]))
    page = sign_in(chromium, live, "carol", PASSWORD)
    page.goto(f"{live.url}/supervisor")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    button = page.locator(f"form[action$='/supervisor/release/{users['alice']}'] button")
    page.once("dialog", lambda dialog: answer(dialog, False))
    button.click()
    page.wait_for_timeout(500)
    assert asked and "3 单" in asked[0] and "审核员甲" in asked[0]
    with app.app_context():
        assert all(orders.get_order(no).assignee_id == users["alice"] for no in mine)  # nothing moved
    page.once("dialog", lambda dialog: answer(dialog, True))
    button.click()
    expect(page.locator(".flash.success")).to_contain_text("已转出 3 单")
    with app.app_context():
        assert all(orders.get_order(no).assignee_id is None for no in mine)
    assert not page.js_errors, page.js_errors


def test_text_typed_before_the_session_ended_is_back_after_signing_in_again(app, users, live, chromium):
    from console.services import accounts

    page, no = _claimed_workspace(app, users, live, chromium)
    page.fill("#notes textarea[name=text]", "申请人说明天上午补传身份证反面")
    with app.app_context():  # the session ends (here: signed out everywhere by an admin)
        accounts.sign_out_everywhere(users["alice"], actor_id=users["dave"])
    page.evaluate("htmx.trigger(document.body, 'alertsChanged')")  # the next poll meets it
    page.wait_for_url(re.compile(r"/login\?next=/orders/"))
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/orders/{no}")  # back to the same page
    expect(page.locator("#notes textarea[name=text]")).to_have_value("申请人说明天上午补传身份证反面")
    page.click("#notes button[type=submit]")
    expect(page.locator("#notes")).to_contain_text("补传身份证反面")
    page.reload()
    expect(page.locator("#notes textarea[name=text]")).to_have_value("")  # sent: the draft is gone


def test_before_the_idle_timeout_a_dialog_offers_to_stay_signed_in(app, users, live, chromium):
    page, no = _claimed_workspace(app, users, live, chromium)
    page.clock.install()
    page.goto(f"{live.url}/orders/{no}")
    keepalives: list[str] = []
    page.on("request", lambda request: keepalives.append(request.url) if "/session/keepalive" in request.url else None)
    page.clock.fast_forward("29:00")  # the default idle timeout is 30 minutes
    dialog = page.locator("#idle-warning")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("即将因长时间未操作退出登录")
    page.click("#idle-keep")
    expect(dialog).to_be_hidden()
    assert keepalives


def test_claim_next_honours_the_queue_filters(app, users, live, chromium):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    with app.app_context():  # the Jiangsu order is more urgent, but 浙江 is the filter
        urgent = orders.submit(order_body(province="江苏", submitted_at=now - timedelta(days=2)),
                               Actor.portal("t"))[0].order_no
        wanted = orders.submit(order_body(province="浙江", submitted_at=now - timedelta(hours=1)),
                               Actor.portal("t"))[0].order_no
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.select_option("select[name=province]", "浙江")
    page.wait_for_url("**province=**")
    page.click("#claim-next")
    page.wait_for_url(f"**/orders/{wanted}")
    with app.app_context():
        assert orders.get_order(wanted).assignee_id == users["alice"]
        assert orders.get_order(urgent).assignee_id is None


def test_the_loop_claim_next_under_a_filter_decide_and_go_on_to_the_next(app, users, live, chromium):
    from tests.test_supervisor import submit

    submit(app, province="江苏", submitted_at="2026-11-20T09:00:00+08:00")  # most urgent, other province
    first = submit(app, province="浙江", submitted_at="2026-11-23T09:00:00+08:00")
    second = submit(app, province="浙江", submitted_at="2026-11-24T09:00:00+08:00")
    page = sign_in(chromium, live, "alice", PASSWORD)
    page.select_option("select[name=province]", "浙江")
    expect(page.locator("tr[data-order-no]")).to_have_count(2)
    page.click("#claim-next")
    page.wait_for_url(f"**/orders/{first}")
    expect(page.locator("#after-decision-choice")).to_have_value("next")
    page.click("#approve-btn")
    page.wait_for_url(f"**/orders/{second}")
    expect(page.locator(".flash.success")).to_contain_text(f"已领取下一单 {second}")
    # Switch to "back to the queue": saved at once, and the next decision follows it.
    page.select_option("#after-decision-choice", "queue")
    expect(page.locator("#after-decision [role=status]")).to_have_text("已保存")
    page.check("#reject-form input[value=other]")
    page.fill("#reject-form textarea[name=note]", "请补充材料")
    page.click("#reject-btn")
    page.wait_for_url(re.compile(r".*/queues/initial-review\?province=.*"))
    expect(page.locator("select[name=province]")).to_have_value("浙江")
    assert not page.js_errors, page.js_errors


def test_rows_claimed_by_someone_else_change_without_a_reload(app, users, live, chromium):
    app.config["QUEUE_POLL_SECONDS"] = 1
    with app.app_context():
        nos = [orders.submit(order_body(), Actor.portal("t"))[0].order_no for _ in range(2)]
    page = sign_in(chromium, live, "alice", PASSWORD)
    row = page.locator(f"tr[data-order-no='{nos[0]}']")
    expect(row.locator("button.claim")).to_be_visible()
    with app.app_context():
        orders.claim(nos[0], actor(app, users["bob"]))
    expect(row.locator("td.assignee")).to_contain_text("审核员乙", timeout=5000)
    expect(row.locator("button.claim")).to_have_count(0)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload
    assert not page.js_errors, page.js_errors
