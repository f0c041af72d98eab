"""Supervisors: the board, bulk reassignment, absences, settings that move due dates, statistics."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from console.domain.calendar import SHANGHAI
from console.domain.workflow import Action
from console.extensions import db
from console.models import Alert, Order, OrderEvent
from console.services import orders, rule_admin, supervision
from console.services.actors import Actor
from console.services.queues import QueueFilter
from console.services.rules import load_rules
from tests.conftest import Browser, actor
from tests.factories import order_body

SUPERVISOR_PAGES = ["/supervisor", "/settings", "/supervisor/stats.csv", "/bureau/imports"]
SUPERVISOR_POSTS = ["/supervisor/reassign", "/supervisor/absences", "/supervisor/release/1", "/settings/sla",
                    "/settings/provinces/北京", "/settings/calendar", "/settings/calendar/year", "/settings/reasons",
                    "/settings/general", "/bureau/imports"]


def submit(app, **kw) -> str:
    with app.app_context():
        return orders.submit(order_body(**kw), Actor.portal("t"))[0].order_no


@pytest.mark.parametrize("path", SUPERVISOR_PAGES)
def test_a_specialist_gets_403_on_every_supervisor_page_and_fragment(app, users, path):
    alice = Browser(app, "alice")
    assert alice.get(path).status_code == 403
    assert alice.get(path, htmx=True).status_code == 403


@pytest.mark.parametrize("path", SUPERVISOR_POSTS)
def test_a_specialist_gets_403_on_every_supervisor_action(app, users, path):
    assert Browser(app, "alice").post(path, {"to": "none", "reason": "x", "scope": "all"}).status_code == 403


def test_the_board_counts_per_person_and_links_to_the_queue(app, users):
    mine = submit(app)
    submit(app)
    with app.app_context():
        orders.claim(mine, actor(app, users["alice"]))
    html = Browser(app, "carol").get("/supervisor").get_data(as_text=True)
    row = re.search(rf'<tr data-user-id="{users["alice"]}">(.*?)</tr>', html, re.S).group(1)
    assert f'href="/queues/initial-review?assignee={users["alice"]}">1</a>' in row
    pool = re.search(r'<tr class="pool" data-user-id="none">(.*?)</tr>', html, re.S).group(1)
    assert 'href="/queues/initial-review?assignee=none">1</a>' in pool
    assert "<svg" in html and "每日进件与决定" in html


def test_bulk_reassignment_of_a_filtered_set_skips_orders_changed_since(app, users):
    nos = [submit(app, province="江苏") for _ in range(4)] + [submit(app, province="广东")]
    snapshot = datetime.now(UTC)
    with app.app_context():  # one order changes after the supervisor looked
        orders.claim(nos[0], actor(app, users["bob"]), now=snapshot + timedelta(seconds=1))
        result = supervision.reassign(actor(app, users["carol"]), to=str(users["alice"]), reason="均衡工作量",
                                      snapshot_at=snapshot + timedelta(milliseconds=500), queue="initial-review",
                                      filters=QueueFilter(province="江苏"))
        assert result.moved == sorted(nos[1:4]) and result.skipped == [nos[0]]
        assignees = dict(db.session.execute(select(Order.order_no, Order.assignee_id)).all())
        assert assignees[nos[0]] == users["bob"] and assignees[nos[4]] is None
        assert all(assignees[n] == users["alice"] for n in nos[1:4])
        events = db.session.scalars(select(OrderEvent).where(OrderEvent.action == "reassign")).all()
        assert len(events) == 3 and all("均衡工作量" in e.note for e in events)
        notices = db.session.scalar(select(func.count(Alert.id)).where(Alert.kind == "reassigned",
                                                                       Alert.recipient_id == users["alice"]))
        assert notices == 3


def test_reassignment_needs_a_reason_and_a_real_target(app, users):
    no = submit(app)
    carol = actor(app, users["carol"])
    with app.app_context():
        with pytest.raises(Exception, match="转派原因"):
            supervision.reassign(carol, to="none", reason="", snapshot_at=datetime.now(UTC), order_nos=[no])
        with pytest.raises(Exception, match="转派对象"):
            supervision.reassign(carol, to=str(users["dave"]), reason="x", snapshot_at=datetime.now(UTC),
                                 order_nos=[no])


def test_five_thousand_orders_move_in_one_call(app, users):
    with app.app_context():
        # Insert through the service once, then copy rows in bulk (intake speed is not what is tested).
        base = orders.submit(order_body("JR-BULK-BASE"), Actor.portal("t"))[0]
        columns = [c.name for c in Order.__table__.columns if c.name not in ("id", "order_no")]
        rows = [{**{c: getattr(base, c) for c in columns}, "order_no": f"JR-BULK-{i:05d}"} for i in range(5000)]
        db.session.execute(Order.__table__.insert(), rows)
        db.session.commit()
        result = supervision.reassign(actor(app, users["carol"]), to=str(users["bob"]), reason="批量测试",
                                      snapshot_at=datetime.now(UTC), queue="initial-review", filters=QueueFilter())
        assert len(result.moved) == 5001 and not result.skipped
        assert db.session.scalar(select(func.count(Order.id)).where(Order.assignee_id == users["bob"])) == 5001


def test_a_supervisor_reassigns_from_the_queue_page(app, users):
    nos = [submit(app) for _ in range(2)]
    carol = Browser(app, "carol")
    page = carol.get("/queues/initial-review").get_data(as_text=True)
    snapshot = re.search(r'name="snapshot" value="([^"]+)"', page).group(1)
    response = carol.post("/supervisor/reassign", {"queue": "initial-review", "snapshot": snapshot,
                                                   "to": str(users["alice"]), "reason": "测试", "scope": "selected",
                                                   "order": [nos[0]]})
    assert response.status_code == 302
    with app.app_context():
        assert orders.get_order(nos[0]).assignee_id == users["alice"]
        assert orders.get_order(nos[1]).assignee_id is None


def test_changing_the_initial_review_limit_moves_due_dates_and_queue_order(app, users):
    now = datetime.now(UTC)
    zj = submit(app, submitted_at=now - timedelta(hours=2))  # 浙江
    with app.app_context():
        before = orders.get_order(zj).due_at
        changed = rule_admin.set_sla("initial_review", 3, "working_days", actor(app, users["carol"]))
        assert changed == 1
        after = orders.get_order(zj).due_at
        assert after > before
        cal = load_rules().calendar
        assert after == cal.deadline(orders.get_order(zj).stage_entered_at, 3).at


def test_adding_a_holiday_moves_due_dates_and_the_queue_follows(app, users):
    from console.domain.calendar import to_local

    now = datetime.now(UTC)
    first = submit(app, submitted_at=now - timedelta(hours=3))
    second = submit(app, submitted_at=now - timedelta(hours=2), province="北京")
    with app.app_context():
        due_first = orders.get_order(first).due_at
        last_day = to_local(due_first - timedelta(seconds=1)).date()
        rule_admin.set_override(last_day, False, "临时停工", actor(app, users["carol"]))
        assert orders.get_order(first).due_at > due_first
        # second was entered later but on the same day; both moved, and the queue still sorts by due
    html = Browser(app, "alice").get("/queues/initial-review").get_data(as_text=True)
    assert html.index(first) < html.index(second)


def test_entering_a_years_schedule_marks_it_official_and_recomputes(app, users):
    with app.app_context():
        rule_admin.import_year(2027, "2027-01-01 休 元旦\n2027-01-04 休 调整", actor(app, users["carol"]))
        rules = load_rules()
        assert 2027 in rules.official_years and rules.calendar.is_workday(date(2027, 1, 4)) is False
        with pytest.raises(Exception, match="格式"):
            rule_admin.import_year(2027, "not a date", actor(app, users["carol"]))


def test_settings_page_shows_official_and_estimated_years(app, users):
    html = Browser(app, "carol").get("/settings").get_data(as_text=True)
    assert 'data-year="2026" data-official="true"' in html
    assert 'data-year="2027" data-official="false"' in html


def test_a_province_rule_change_recomputes_bureau_deadlines(app, users):
    no = submit(app, province="北京", submitted_at="2018-01-01T00:00:00+08:00")
    with app.app_context():
        orders.decide(no, Action.APPROVE, Actor(None, "b", "supervisor"), expected_version=1)
        before = orders.get_order(no).due_at
        rule_admin.set_province_rule("北京", actor(app, users["carol"]), sms_required_from=None, sms_never=True,
                                     bureau_limit_days=30, mailing_required=False, mailing_items=[],
                                     mailing_address="", consistency_required=True)
        assert orders.get_order(no).due_at > before


def test_statistics_csv_export(app, users):
    submit(app)
    response = Browser(app, "carol").get("/supervisor/stats.csv")
    text = response.get_data().decode("utf-8-sig")
    assert response.status_code == 200 and text.startswith("类别,项目,数值一,数值二,说明")
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    assert f"每日,{today},1," in text and "时限,待初审," in text


def test_absences_and_releasing_a_persons_orders(app, users):
    no = submit(app)
    with app.app_context():
        orders.claim(no, actor(app, users["alice"]))
    carol = Browser(app, "carol")
    today = datetime.now(UTC).astimezone(SHANGHAI).date().isoformat()  # the board counts in local days
    carol.post("/supervisor/absences", {"user_id": users["alice"], "starts_on": today, "ends_on": today, "note": "年假"})
    assert "休假至" in carol.get("/supervisor").get_data(as_text=True)
    carol.post(f"/supervisor/release/{users['alice']}", {"to": "none"})
    with app.app_context():
        assert orders.get_order(no).assignee_id is None


@pytest.mark.parametrize("back", ["//evil.example/x", "/\\evil.example", "https://evil.example"])
def test_reassignment_never_redirects_off_site(app, users, back):
    response = Browser(app, "carol").post("/supervisor/reassign", {"back": back, "to": "none", "reason": "x"})
    assert response.status_code == 302 and response.headers["Location"] == "/queues/initial-review"


@pytest.mark.parametrize(("path", "data", "message"), [
    ("/settings/sla", {"stage": "initial_review", "limit": "abc", "unit": "working_days"}, "不是有效的整数"),
    ("/settings/sla", {"stage": "initial_review", "limit": "0", "unit": "working_days"}, "时限无效"),
    ("/settings/sla", {"stage": "approved", "limit": "2", "unit": "working_days"}, "环节无效"),
    ("/settings/calendar", {"day": "2026-13-45", "kind": "off"}, "不是有效的日期"),
    ("/settings/calendar/year", {"year": "2027", "schedule": "明年元旦休息"}, "日程格式有误"),
    ("/settings/provinces/北京", {"bureau_limit_days": "99"}, "管局时限无效"),
    ("/settings/reasons", {"code": "Bad Code", "label": "x"}, "代码无效"),
    ("/settings/general", {"session_idle_minutes": "1"}, "空闲超时"),
])
def test_bad_settings_are_refused_with_a_message_and_change_nothing(app, users, path, data, message):
    from console.models import AuditEntry

    carol = Browser(app, "carol")
    response = carol.post(path, data)
    assert response.status_code == 422  # the page again, the message in the section submitted
    page = response.get_data(as_text=True)
    assert message in page and 'role="alert"' in page
    with app.app_context():
        changes = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action.like("settings.%")))
        assert changes == 0


def test_the_board_reads_the_statistics_rollup_that_the_sweep_refreshes(app, users):
    from console.models import Snapshot
    from console.services import stats
    from jobs.tasks import sweep_once

    submit(app)
    carol = Browser(app, "carol")
    with app.app_context():
        sweep_once()  # the jobs process's sweep also computes the 30-day statistics
        first = db.session.get(Snapshot, stats.SNAPSHOT).computed_at
    submit(app)  # a second submission: the rollup still says one until it is refreshed
    csv_text = carol.get("/supervisor/stats.csv").get_data().decode("utf-8-sig")
    today = datetime.now(UTC).astimezone(SHANGHAI).date().isoformat()
    assert f"每日,{today},1," in csv_text
    page = carol.get("/supervisor").get_data(as_text=True)
    assert 'id="stats-age"' in page and first.astimezone(SHANGHAI).strftime("%H:%M") in page
    with app.app_context():
        sweep_once()
    assert f"每日,{today},2," in carol.get("/supervisor/stats.csv").get_data().decode("utf-8-sig")
    with app.app_context():  # too old (the jobs process stopped): the reader computes it afresh
        row = db.session.get(Snapshot, stats.SNAPSHOT)
        row.computed_at = datetime.now(UTC) - timedelta(minutes=6)
        db.session.commit()
        orders.submit(order_body(), Actor.portal("t"))
        assert stats.current_statistics()["days"][-1]["intake"] == 3


def test_a_row_claimed_by_a_supervisor_keeps_its_bulk_checkbox_and_the_table_stays_aligned(app, users):
    no = submit(app)
    carol = Browser(app, "carol")
    page = carol.get("/queues/initial-review").get_data(as_text=True)
    before = re.search(rf'<tr data-order-no="{no}">(.*?)</tr>', page, re.S).group(1)
    row = carol.post(f"/queues/row/{no}/claim", htmx=True).get_data(as_text=True)
    after = re.search(rf'<tr data-order-no="{no}">(.*?)</tr>', row, re.S).group(1)
    assert 'name="order"' in after and 'form="bulk-form"' in after
    assert after.count("<td") == before.count("<td")
    alice = Browser(app, "alice")  # a specialist's rows have no checkbox, before or after
    other = submit(app)
    claimed = alice.post(f"/queues/row/{other}/claim", htmx=True).get_data(as_text=True)
    assert 'form="bulk-form"' not in claimed


def test_a_statistics_refresh_reads_two_days_and_equals_a_full_count(app, users, monkeypatch):
    from console.services import stats

    now = datetime.now(UTC)
    reads = []
    real = stats._day_details
    monkeypatch.setattr(stats, "_day_details", lambda since: reads.append(since) or real(since))

    def same(a: dict, b: dict) -> bool:
        drop = ("computed_at",)
        return {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}

    with app.app_context():
        def submit_at(moment):
            orders.submit(order_body(submitted_at=moment - timedelta(minutes=1)), Actor.portal("t"), now=moment)

        for days_ago in (9, 6, 6, 3, 1, 0):
            submit_at(now - timedelta(days=days_ago))
        stats.refresh_snapshot(now=now)  # no snapshot yet: thirty days read
        assert reads[-1].date() == (now.astimezone(SHANGHAI) - timedelta(days=29)).date()
        submit_at(now)
        refreshed = stats.refresh_snapshot(now=now)  # ended days reused: yesterday and today read
        assert reads[-1].date() == (now.astimezone(SHANGHAI) - timedelta(days=1)).date()
        assert same(refreshed, stats.statistics(now=now)) and refreshed["days"][-1]["intake"] == 2
        assert sum(d["intake"] for d in refreshed["days"]) == 7
        # history recorded late, with an earlier time: everything is read again, nothing is missed
        submit_at(now - timedelta(days=5))
        late = stats.refresh_snapshot(now=now)
        assert reads[-1].date() == (now.astimezone(SHANGHAI) - timedelta(days=29)).date()
        assert same(late, stats.statistics(now=now)) and sum(d["intake"] for d in late["days"]) == 8
        # the next day: the snapshot's days are reused, shifted by one
        tomorrow = stats.refresh_snapshot(now=now + timedelta(days=1))  # from the day before the last one
        assert reads[-1].date() == (now.astimezone(SHANGHAI) - timedelta(days=1)).date()
        assert same(tomorrow, stats.statistics(now=now + timedelta(days=1)))
