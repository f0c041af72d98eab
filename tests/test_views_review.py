"""The 初审 queue and the workspace through the Flask test client, CSRF on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import CallAttempt, Order, OrderEvent
from console.services import orders
from console.services.actors import Actor
from tests.conftest import Browser, actor
from tests.factories import order_body

PORTAL = Actor.portal("test")


def submit(app, **kw) -> str:
    with app.app_context():
        return orders.submit(order_body(**kw), PORTAL)[0].order_no


def claim(app, no, user_id):
    with app.app_context():
        return orders.claim(no, actor(app, user_id)).version


def version_of(app, no) -> int:
    with app.app_context():
        return orders.get_order(no).version


@pytest.mark.parametrize("path", ["/queues/initial-review", "/queues/mailing", "/queues/bureau"])
def test_queues_render_full_pages_and_htmx_fragments(app, users, path):
    submit(app)
    browser = Browser(app, "alice")
    full = browser.get(path)
    fragment = browser.get(path, htmx=True)
    assert full.status_code == fragment.status_code == 200
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_a_history_restore_gets_the_full_page(app, users):
    response = Browser(app, "alice").get("/queues/initial-review", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_workspace_full_page_and_fragment(app, users):
    no = submit(app)
    browser = Browser(app, "alice")
    assert "<html" in browser.get(f"/orders/{no}").get_data(as_text=True)
    assert "<html" not in browser.get(f"/orders/{no}", htmx=True).get_data(as_text=True)


def test_queue_is_most_urgent_first_and_filters_by_province_kind_and_text(app, users):
    now = datetime.now(UTC)
    old = submit(app, submitted_at=now - timedelta(days=5), province="江苏")
    new = submit(app, submitted_at=now - timedelta(hours=1), **{"subject.name": "杭州蓝海科技有限公司"})
    browser = Browser(app, "alice")
    html = browser.get("/queues/initial-review").get_data(as_text=True)
    assert html.index(old) < html.index(new)
    assert new not in browser.get("/queues/initial-review?province=江苏").get_data(as_text=True)
    found = browser.get("/queues/initial-review?q=蓝海").get_data(as_text=True)
    assert new in found and old not in found
    assert old in browser.get("/queues/initial-review?q=yunzhan").get_data(as_text=True)
    assert "没有符合筛选条件的订单" in browser.get("/queues/initial-review?kind=continue_access").get_data(as_text=True)
    overdue = browser.get("/queues/initial-review?overdue=1").get_data(as_text=True)
    assert old in overdue and new not in overdue


def test_search_text_is_matched_literally_not_as_a_pattern(app, users):
    submit(app)
    html = Browser(app, "alice").get("/queues/initial-review?q=%25").get_data(as_text=True)
    assert "没有符合筛选条件的订单" in html


def test_bad_filter_values_are_ignored_not_errors(app, users):
    submit(app)
    response = Browser(app, "alice").get("/queues/initial-review?province=火星&kind=x&assignee=<script>&after=zz")
    assert response.status_code == 200 and "<script>&" not in response.get_data(as_text=True)


def test_keyset_pagination_walks_every_order_once(app, users, monkeypatch):
    from console.services import queues

    monkeypatch.setattr(queues, "PAGE_SIZE", 3)
    nos = {submit(app) for _ in range(8)}
    browser = Browser(app, "alice")
    seen: list[str] = []
    url = "/queues/initial-review"
    for _ in range(5):
        html = browser.get(url, htmx=bool(seen)).get_data(as_text=True)
        seen += re.findall(r'data-order-no="([^"]+)"', html)
        more = re.search(r'hx-get="([^"]*after=[^"]+)"', html)
        if not more:
            break
        url = more.group(1).replace("&amp;", "&")
    assert sorted(seen) == sorted(nos)


def test_claim_from_a_row_rerenders_the_row_and_a_lost_race_says_who_has_it(app, users):
    no = submit(app)
    alice, bob = Browser(app, "alice"), Browser(app, "bob")
    won = alice.post(f"/queues/row/{no}/claim", htmx=True)
    assert won.status_code == 200 and "审核员甲" in won.get_data(as_text=True)
    assert won.headers["HX-Trigger"] == "ordersChanged"
    assert "<tr" in won.get_data(as_text=True) and "<html" not in won.get_data(as_text=True)
    lost = bob.post(f"/queues/row/{no}/claim", htmx=True)
    assert lost.status_code == 200 and "已被 审核员甲 领取" in lost.get_data(as_text=True)


def test_claim_next_opens_the_most_urgent_order(app, users):
    now = datetime.now(UTC)
    urgent = submit(app, submitted_at=now - timedelta(days=4))
    submit(app)
    response = Browser(app, "alice").post("/queues/initial-review/claim-next", htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/orders/{urgent}"
    plain = Browser(app, "bob").post("/queues/initial-review/claim-next")
    assert plain.status_code == 302 and plain.headers["Location"].startswith("/orders/")


def test_claim_next_on_an_empty_pool_says_so(app, users):
    response = Browser(app, "alice").post("/queues/initial-review/claim-next")
    assert response.status_code == 302 and "empty=1" in response.headers["Location"]


def test_findings_on_the_page_carry_the_contract_attributes(app, users):
    no = submit(app, **{"subject.mailing_address.province": "江苏", "subject.mailing_address.detail": "中山北路"})
    html = Browser(app, "alice").get(f"/orders/{no}").get_data(as_text=True)
    assert 'data-check="same_province" data-severity="error"' in html
    assert 'data-check="house_number" data-severity="error"' in html


def test_differences_from_the_original_filing_are_highlighted(app, users):
    no = submit(app, **{"website.name": "云栈科技商城"})
    html = Browser(app, "alice").get(f"/orders/{no}").get_data(as_text=True)
    assert re.search(r'<tr class="diff" data-differs="true"><th>网站名称</th><td class="submitted">云栈科技商城', html)


def test_a_correction_updates_the_order_records_the_diff_and_reruns_the_checks(app, users):
    no = submit(app, **{"subject.mailing_address.detail": "文三路"})
    claim(app, no, users["alice"])
    browser = Browser(app, "alice")
    form = browser.get(f"/orders/{no}/edit/subject", htmx=True).get_data(as_text=True)
    data = dict(re.findall(r'name="(subject__[^"]+)"[^>]*value="([^"]*)"', form))
    data.update(re.findall(r'<select[^>]*name="(subject__[^"]+)"[^>]*>.*?<option selected value="([^"]*)"', form, re.S))
    data["subject__mailing_address__detail"] = "文三路90号5楼"
    data["version"] = str(version_of(app, no))
    response = browser.post(f"/orders/{no}/edit/subject", data, htmx=True)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.headers["HX-Retarget"] == "#workspace-root"
    assert 'data-check="house_number"' not in response.get_data(as_text=True)
    with app.app_context():
        order = orders.get_order(no)
        assert order.mail_detail == "文三路90号5楼" and order.error_count == 0
        event = db.session.scalar(select(OrderEvent).where(OrderEvent.action == "edit"))
        assert event.changes == {"subject.mailing_address.detail": ["文三路", "文三路90号5楼"]}


def test_an_invalid_correction_gets_422_beside_the_field_and_changes_nothing(app, users):
    no = submit(app)
    claim(app, no, users["alice"])
    browser = Browser(app, "alice")
    response = browser.post(f"/orders/{no}/edit/website", {
        "version": version_of(app, no), "website__name": "", "website__domains": "not a domain",
        "website__filing_number": "", "website__previous_provider": ""}, htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "网站名称必填" in html and "无效的域名" in html
    with app.app_context():
        assert orders.get_order(no).website_name == "云栈科技官网"


def test_a_correction_with_a_stale_version_gets_the_409_banner(app, users):
    no = submit(app)
    claim(app, no, users["alice"])
    old = version_of(app, no) - 1
    response = Browser(app, "alice").post(f"/orders/{no}/edit/website", {
        "version": old, "website__name": "新网站名称", "website__domains": "yunzhan.cn",
        "website__filing_number": "", "website__previous_provider": ""}, htmx=True)
    assert response.status_code == 409 and "此订单已被他人修改" in response.get_data(as_text=True)


def test_approve_moves_the_order_by_the_province_rule(app, users):
    no = submit(app)
    claim(app, no, users["alice"])
    response = Browser(app, "alice").post(f"/orders/{no}/approve", {"version": version_of(app, no)})
    assert response.status_code == 302
    with app.app_context():
        assert orders.get_order(no).state == "sms_verification"


def test_approving_with_open_errors_needs_an_override_reason_which_is_recorded(app, users):
    no = submit(app, **{"principal.id_number": "330106199003071231"})
    claim(app, no, users["alice"])
    browser = Browser(app, "alice")
    refused = browser.post(f"/orders/{no}/approve", {"version": version_of(app, no)})
    assert refused.status_code == 422 and "通过前须说明理由" in refused.get_data(as_text=True)
    ok = browser.post(f"/orders/{no}/approve", {"version": version_of(app, no), "override_reason": "电话核实为笔误"})
    assert ok.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(OrderEvent).where(OrderEvent.action == "approve"))
        assert "电话核实为笔误" in event.note


def test_reject_needs_a_reason_and_a_note(app, users):
    no = submit(app)
    claim(app, no, users["alice"])
    browser = Browser(app, "alice")
    bad = browser.post(f"/orders/{no}/reject", {"version": version_of(app, no)})
    assert bad.status_code == 422
    assert "至少选择一个驳回原因" in bad.get_data(as_text=True) and "请填写给申请人的说明" in bad.get_data(as_text=True)
    ok = browser.post(f"/orders/{no}/reject", {"version": version_of(app, no), "reasons": ["website_name"],
                                                "note": "网站名称请与原备案一致"})
    assert ok.status_code == 302
    with app.app_context():
        order = orders.get_order(no)
        assert order.state == "returned"
        event = db.session.scalar(select(OrderEvent).where(OrderEvent.action == "reject"))
        assert event.reasons == ["website_name"]


def test_two_specialists_deciding_at_once_the_second_gets_the_409_banner(app, users):
    no = submit(app)
    claim(app, no, users["alice"])
    seen = version_of(app, no)
    alice, carol = Browser(app, "alice"), Browser(app, "carol")
    assert alice.post(f"/orders/{no}/approve", {"version": seen}).status_code == 302
    late = carol.post(f"/orders/{no}/reject", {"version": seen, "reasons": ["other"], "note": "x"}, htmx=True)
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "此订单已被他人修改" in html and 'id="conflict-banner"' in html
    with app.app_context():
        assert db.session.scalar(select(Order.state)) == "sms_verification"


def test_calls_are_logged_and_an_unanswered_call_sets_a_reminder(app, users):
    no = submit(app)
    claim(app, no, users["alice"])
    browser = Browser(app, "alice")
    response = browser.post(f"/orders/{no}/calls", {"number": "13800138000", "reached": "0", "note": "无人接听"},
                            htmx=True)
    assert response.status_code == 200 and "后回拨" in response.get_data(as_text=True)
    with app.app_context():
        call = db.session.scalar(select(CallAttempt))
        assert call.reached is False and call.number == "13800138000"


def test_presence_lists_other_viewers_and_notices_a_change(app, users):
    no = submit(app)
    v = version_of(app, no)
    alice, bob = Browser(app, "alice"), Browser(app, "bob")
    alice.post(f"/orders/{no}/presence?version={v}", htmx=True)
    seen_by_bob = bob.post(f"/orders/{no}/presence?version={v}", htmx=True).get_data(as_text=True)
    assert "审核员甲 也在查看此订单" in seen_by_bob
    claim(app, no, users["alice"])
    assert "此订单已被他人修改" in bob.post(f"/orders/{no}/presence?version={v}", htmx=True).get_data(as_text=True)


def test_user_text_is_escaped(app, users):
    no = submit(app, **{"subject.name": "<script>alert(1)</script>有限公司"})
    html = Browser(app, "alice").get(f"/orders/{no}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_findings_are_named_in_chinese_in_the_workspace(app, users):
    from console.domain.checks import CHECK_LABELS

    with app.app_context():
        no = orders.submit(order_body(**{"subject.mailing_address.detail": "文三路"}), Actor.portal("t"))[0].order_no
    html = Browser(app, "carol").get(f"/orders/{no}").get_data(as_text=True)
    assert 'data-check="house_number"' in html  # the code stays for scripts and tests
    assert f">{CHECK_LABELS['house_number']}</span>" in html and ">house_number</span>" not in html


def test_every_check_code_has_a_chinese_label():
    import inspect
    import re

    from console.domain import checks

    codes = set(re.findall(r'@check\("([a-z_]+)"\)', inspect.getsource(checks)))
    assert codes and codes <= set(checks.CHECK_LABELS)


@pytest.mark.parametrize(("local_due", "shown"), [
    ("2026-12-01T00:00:00+08:00", "11-30（周一）24:00 前"),  # the end of Monday, not "12-01 00:00"
    ("2026-12-01T17:30:00+08:00", "12-01（周二）17:30 前"),
    ("2026-11-30T16:00:00+00:00", "11-30（周一）24:00 前"),  # the same moment in UTC
])
def test_deadlines_read_as_the_day_they_end(local_due, shown):
    from console.templating import deadline

    assert deadline(datetime.fromisoformat(local_due)) == shown


def test_the_workspace_shows_the_deadline_as_the_day_it_ends(app, users):
    with app.app_context():
        no = orders.submit(order_body(submitted_at="2026-11-27T09:30:00+08:00"), Actor.portal("t"),
                           now=datetime(2026, 11, 27, 2, 0, tzinfo=UTC))[0].order_no
        due = orders.get_order(no).due_at
    from console.templating import deadline

    html = Browser(app, "carol").get(f"/orders/{no}").get_data(as_text=True)
    assert f"截止 {deadline(due)}" in html and "24:00 前" in deadline(due)


def test_claim_next_without_javascript_keeps_the_filters_and_says_when_none_is_free(app, users):
    from datetime import timedelta

    now = datetime.now(UTC)
    with app.app_context():
        orders.submit(order_body(province="江苏", submitted_at=now - timedelta(days=2)), Actor.portal("t"))
    alice = Browser(app, "alice")
    response = alice.post("/queues/initial-review/claim-next", {"province": "浙江"})
    assert response.status_code == 302 and "empty=1" in response.headers["Location"]
    assert "province=" in response.headers["Location"]  # back to the same filtered queue
    with app.app_context():
        assert db.session.scalar(select(Order.assignee_id)) is None  # the Jiangsu order stays free


def test_the_workspace_links_back_to_the_queue_with_its_filters(app, users):
    with app.app_context():
        no = orders.submit(order_body(province="浙江"), Actor.portal("t"))[0].order_no
    alice = Browser(app, "alice")
    alice.get("/queues/initial-review?province=浙江&overdue=1")
    html = alice.get(f"/orders/{no}").get_data(as_text=True)
    href = re.search(r'href="([^"]+)" id="back-to-queue"', html).group(1).replace("&amp;", "&")
    assert href.startswith("/queues/initial-review?") and "province=%E6%B5%99%E6%B1%9F" in href and "overdue=1" in href


def test_someone_elses_order_offers_no_note_or_recheck_form_and_says_why(app, users):
    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
        orders.claim(no, actor(app, users["bob"]))
    alice_sees = Browser(app, "alice").get(f"/orders/{no}").get_data(as_text=True)
    assert 'id="notes-locked"' in alice_sees and f"/orders/{no}/notes" not in alice_sees
    assert f"/orders/{no}/recheck" not in alice_sees
    bob_sees = Browser(app, "bob").get(f"/orders/{no}").get_data(as_text=True)
    assert f"/orders/{no}/notes" in bob_sees and f"/orders/{no}/recheck" in bob_sees


def test_the_409_banner_lists_the_change_not_a_call_logged_after_it(app, users):
    from console.services import workbench

    no = submit(app)
    claim(app, no, users["alice"])
    seen = version_of(app, no)
    with app.app_context():  # carol corrects the name, then logs a call (a call makes no new version)
        workbench.correct(no, {"website.name": "云栈官网"}, actor(app, users["carol"]), expected_version=seen)
        workbench.log_call(no, "13800138000", True, "已确认网站名称", actor(app, users["carol"]))
    response = Browser(app, "alice").post(f"/orders/{no}/reject", {"version": seen, "reasons": ["other"],
                                                                   "note": "请补充"})
    banner = re.search(r'id="conflict-banner"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S).group(1)
    assert response.status_code == 409 and "修改信息" in banner and "电话联系" not in banner
