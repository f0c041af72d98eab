"""The registry of filings made before the console: import (preview, apply, report) and what the
checks make of it — 新增接入 / 继续接入, 主体冲突, the original-filing comparison — through the API
and the workspace."""

from __future__ import annotations

import csv
import io
import re
import threading

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import Filing, FilingImport
from console.services import filings
from console.services.errors import Invalid
from tests.conftest import Browser, actor
from tests.factories import EXAMPLE_BODY, order_body

HEADER = ["主办单位名称", "证件号码", "主体备案号", "网站备案号", "网站名称", "域名", "状态"]
#: The example body's subject and website as the registry holds them.
YUNZHAN = ["杭州云栈科技有限公司", "91330106MA2B3C4D5D", "浙ICP备12345678号", "浙ICP备12345678号-1",
           "云栈科技官网", "yunzhan.cn", "正常"]


def registry_csv(*rows: list[str], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode("utf-8")


def load(app, users, *rows: list[str]) -> FilingImport:
    with app.app_context():
        who = actor(app, users["dave"])
        batch = filings.preview("r.csv", registry_csv(*rows), who)
        return filings.apply(batch.id, who)


def registry(app) -> dict[str, Filing]:
    with app.app_context():
        return {f.website_filing_number: f for f in db.session.scalars(select(Filing))}


def findings_of(api, order_no: str) -> list[dict]:
    return api.get(f"/orders/{order_no}").get_json()["findings"]


def test_a_mixed_file_is_judged_row_by_row_and_nothing_is_written_before_apply(app, users):
    rows = [YUNZHAN,
            ["云栈", "91330106MA2B3C4D5D", "浙ICP备12345678号", "浙ICP备12345678号-1", "重复", "", "正常"],
            ["某公司", "91330106MA2B3C4D5D", "浙ICP备12345678", "浙ICP备12345678-2", "站", "", ""],
            ["某公司", "", "浙ICP备12345678号", "浙ICP备12345678号-3", "站", "", ""],
            ["某公司", "91330106MA2B3C4D5D", "浙ICP备12345678号", "浙ICP备99999999号-1", "站", "", ""],
            ["某公司", "91330106MA2B3C4D5D", "浙ICP备12345678号", "浙ICP备12345678号-4", "站", "x.notarealtld", ""],
            ["某公司", "91330106MA2B3C4D5D", "浙ICP备12345678号", "浙ICP备12345678号-5", "站", "", "待定"],
            ["某公司", "9133-0106", "浙ICP备12345678号", "浙ICP备12345678号-6", "站", "", ""]]
    with app.app_context():
        batch = filings.preview("r.csv", registry_csv(*rows), actor(app, users["dave"]))
        outcome = [(r["status"], r["message"]) for r in batch.rows]
        assert db.session.scalar(select(func.count()).select_from(Filing)) == 0
    assert outcome[0] == ("ok", "将新增")
    assert outcome[1] == ("error", "与前面的行重复（同一网站备案号）")
    assert outcome[2][0] == "error" and "格式应为" in outcome[2][1]
    assert outcome[3] == ("error", "缺少证件号码")
    assert outcome[4] == ("error", "网站备案号「浙ICP备99999999号-1」不属于主体备案号「浙ICP备12345678号」")
    assert outcome[5] == ("error", "域名「x.notarealtld」不是有效的域名")
    assert outcome[6] == ("error", "状态「待定」无法识别（应为 正常 或 已注销）")
    assert outcome[7][0] == "error" and "8 到 30 位字母或数字" in outcome[7][1]


def test_applying_writes_the_good_rows_and_reimporting_changes_nothing_twice(app, users):
    docs = ["杭州云栈科技有限公司", "91330106ma2b3c4d5d", "浙ICP备12345678号", "浙ICP备12345678号-2", "云栈文档",
            "docs.yunzhan.cn；例子.cn", "已注销"]
    batch = load(app, users, YUNZHAN, docs, ["坏行"] + [""] * 6)
    assert (batch.status, batch.applied, batch.failed) == ("done", 2, 1)
    held = registry(app)
    assert held["浙ICP备12345678号-2"].domains == ["docs.yunzhan.cn", "xn--fsqu00a.cn"]  # canonical, sorted
    assert held["浙ICP备12345678号-2"].certificate_number == "91330106MA2B3C4D5D"
    assert held["浙ICP备12345678号-2"].status == "cancelled"
    again = load(app, users, YUNZHAN, docs)
    assert again.applied == 0 and {r["status"] for r in again.rows} == {"skip"}
    renamed = load(app, users, [*YUNZHAN[:4], "云栈科技新官网", *YUNZHAN[5:]])
    assert renamed.applied == 1 and renamed.rows[0]["message"] == "已更新：网站名称"
    assert registry(app)["浙ICP备12345678号-1"].website_name == "云栈科技新官网"
    assert len(registry(app)) == 2


def test_a_batch_is_applied_once_even_when_two_presses_race(app, users):
    with app.app_context():
        batch_id = filings.preview("r.csv", registry_csv(YUNZHAN), actor(app, users["dave"])).id
    who = actor(app, users["dave"])
    barrier, outcomes = threading.Barrier(2), []

    def press():
        with app.app_context():
            barrier.wait()
            try:
                filings.apply(batch_id, who)
                outcomes.append("applied")
            except Invalid:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["applied", "refused"]
    assert len(registry(app)) == 1


def test_new_access_for_a_subject_filed_before_the_console_is_flagged_through_the_api(app, users, api):
    load(app, users, [*YUNZHAN[:3], "浙ICP备12345678号-7", "云栈商城", "shop.yunzhan.cn", "正常"])
    body = order_body("JR-REG-1")
    assert api.post("/orders", body).status_code == 201
    kinds = [f for f in findings_of(api, "JR-REG-1") if f["check"] == "filing_type"]
    assert kinds == [{"check": "filing_type", "severity": "error", "field": "kind",
                      "message": "该主体在本服务商已有成功备案（登记的已有备案：浙ICP备12345678号-7），应为继续接入备案"}]
    api.post("/orders", order_body("JR-REG-2", kind="continue_access", **{"website.filing_number": "浙ICP备12345678号-1"}))
    assert not [f for f in findings_of(api, "JR-REG-2") if f["check"] == "filing_type" and "已有成功备案" in f["message"]]


def test_a_cancelled_filing_only_does_not_make_the_subject_a_holder(app, users, api):
    load(app, users, [*YUNZHAN[:3], "浙ICP备12345678号-7", "云栈商城", "", "已注销"])
    api.post("/orders", order_body("JR-REG-3"))
    assert not [f for f in findings_of(api, "JR-REG-3") if f["check"] == "filing_type"]


def test_the_registered_record_of_the_website_is_the_original_filing_compared(app, users, api):
    load(app, users, [*YUNZHAN[:4], "云栈旧官网", "yunzhan.cn;www.yunzhan.cn", "正常"])
    api.post("/orders", order_body("JR-REG-4", kind="continue_access", original_filing={}))
    found = {(f["check"], f["field"]): f for f in findings_of(api, "JR-REG-4")}
    assert ("consistency", "original_filing") not in found  # the registry stands in for the portal's record
    assert found[("consistency", "website.name")]["message"] == \
        "网站名称与本服务商登记的原备案（浙ICP备12345678号-1）不一致：提交「云栈科技官网」，登记「云栈旧官网」"
    assert "登记「www.yunzhan.cn、yunzhan.cn」" in found[("consistency", "website.domains")]["message"]


def test_a_cancelled_registered_website_filing_is_an_error(app, users, api):
    load(app, users, [*YUNZHAN[:6], "已注销"])
    api.post("/orders", order_body("JR-REG-5"))
    assert any(f["check"] == "filing_number" and f["severity"] == "error" and "已注销" in f["message"]
               for f in findings_of(api, "JR-REG-5"))


def test_a_subject_filing_number_registered_to_another_subject_is_a_conflict(app, users, api):
    load(app, users, ["另一家公司", "91330106MA2B3C4D6F", "浙ICP备12345678号", "浙ICP备12345678号-9", "别的网站", "",
                      "正常"])
    api.post("/orders", order_body("JR-REG-6"))
    conflicts = [f for f in findings_of(api, "JR-REG-6") if f["check"] == "subject_conflict"]
    assert [(f["severity"], f["field"]) for f in conflicts] == [("error", "subject.filing_number")]
    assert "登记的主体是「另一家公司」" in conflicts[0]["message"]


def test_applying_rechecks_the_open_orders_of_the_subjects_named(app, users, api):
    api.post("/orders", order_body("JR-REG-7"))
    assert not [f for f in findings_of(api, "JR-REG-7") if f["check"] == "filing_type"]
    batch = load(app, users, [*YUNZHAN[:3], "浙ICP备12345678号-7", "云栈商城", "", "正常"])
    assert batch.rechecked == 1
    with app.app_context():
        from console.models import Order

        stored = db.session.scalar(select(Order).where(Order.order_no == "JR-REG-7"))
        assert [f["check"] for f in stored.findings if f["check"] == "filing_type"] == ["filing_type"]
        assert stored.error_count >= 1


def test_the_pages_preview_apply_page_and_report(app, users):
    dave = Browser(app, "dave")
    assert "备案登记" in dave.get("/admin/filings").get_data(as_text=True)
    rows = [[f"公司{i}", "91330106MA2B3C4D5D", "浙ICP备12345678号", f"浙ICP备12345678号-{i}", f"站{i}", "", ""]
            for i in range(1, 451)] + [["坏", "", "", "", "", "", ""]]
    response = dave.post("/admin/filings", {"file": (io.BytesIO(registry_csv(*rows)), "存量备案.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 302
    target = response.headers["Location"]
    first = dave.get(target).get_data(as_text=True)
    assert "确认写入 450 行" in first and "第 1 / 3 页" in first and first.count("<tr data-line=") == 200
    last = dave.get(target + "?page=3").get_data(as_text=True)
    assert last.count("<tr data-line=") == 51 and 'data-line="452"' in last
    assert dave.get(target + "?page=99999999999999999999").status_code == 200
    failed = dave.get(target + "?failed=1").get_data(as_text=True)
    assert failed.count("<tr data-line=") == 1 and "缺少主办单位名称" not in failed and "缺少证件号码" in failed
    assert dave.post(target + "/apply", csrf=False).status_code == 400  # CSRF
    assert registry(app) == {}
    done = dave.post(target + "/apply")
    assert done.status_code == 302
    report = dave.get(target).get_data(as_text=True)
    assert "导入完成：写入 450 行，失败 1 行" in report and len(registry(app)) == 450
    again = dave.post(target + "/apply")
    assert "此文件已导入" in dave.get(again.headers["Location"]).get_data(as_text=True)
    looked_up = dave.get("/admin/filings?q=浙ICP备12345678号-7").get_data(as_text=True)
    assert 'data-filing="浙ICP备12345678号-7"' in looked_up
    assert "登记中没有" in dave.get("/admin/filings?q=nothing%00").get_data(as_text=True)
    failures = dave.get(target + "/failures.csv").get_data().decode("utf-8-sig")
    assert "缺少证件号码" in failures and failures.count("\n") == 2
    assert "网站备案号" in dave.get("/admin/filings/template.csv").get_data().decode("utf-8-sig")


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_only_admins_keep_the_registry(app, users, who):
    person = Browser(app, who)
    assert person.get("/admin/filings").status_code == 403
    assert person.post("/admin/filings", {}).status_code == 403


def test_a_file_without_the_needed_columns_is_a_422_naming_them(app, users):
    dave = Browser(app, "dave")
    response = dave.post("/admin/filings", {"file": (io.BytesIO(registry_csv(YUNZHAN, header=["主办单位名称"])), "r.csv")},
                         content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "缺少列：证件号码、主体备案号、网站备案号" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FilingImport)) == 0


def test_the_example_body_stays_clean_when_the_registry_knows_it(app, users, api):
    load(app, users, YUNZHAN)
    api.post("/orders", order_body("JR-REG-8", kind="continue_access"))
    checks = {f["check"] for f in findings_of(api, "JR-REG-8") if f["severity"] == "error"}
    assert not checks & {"filing_type", "subject_conflict", "consistency", "filing_number"}
    assert EXAMPLE_BODY["kind"] == "new_access"


def test_the_workspace_shows_registry_findings_beside_their_fields(app, users, api):
    load(app, users, ["另一家公司", "91330106MA2B3C4D6F", "浙ICP备12345678号", "浙ICP备12345678号-9", "别的网站", "",
                      "正常"])
    api.post("/orders", order_body("JR-REG-9"))
    page = Browser(app, "carol").get("/orders/JR-REG-9").get_data(as_text=True)
    beside = page.index('id="f-subject-filing_number" data-field="subject.filing_number" class="has-error')
    cell = page[beside:page.index("</dd>", beside)]
    assert 'data-check="subject_conflict"' in cell and "登记的主体是「另一家公司」" in cell


def test_the_comparison_shows_the_registered_record_beside_the_portals(app, users, api):
    load(app, users, [*YUNZHAN[:4], "云栈旧官网", "xn--fsqu00a.cn", "正常"])
    api.post("/orders", order_body("JR-REG-10", kind="continue_access",
                                   **{"website.domains": ["例子.cn"], "original_filing.domains": ["xn--fsqu00a.cn"]}))
    page = Browser(app, "carol").get("/orders/JR-REG-10").get_data(as_text=True)
    table = page[page.index('id="sec-compare"'):page.index('id="sec-product"')]
    assert "本服务商登记（正常）" in table
    rows = dict(re.findall(r'data-differs="(\w+)"><th>([^<]+)</th>', table)[i][::-1] for i in range(6))
    assert rows["网站名称"] == "true" and rows["域名"] == "false"  # 例子.cn is xn--fsqu00a.cn
    assert "<td data-registered>云栈旧官网</td>" in table
