"""Materials checklist as data: each kind of subject must upload certain kinds of material (an
authorisation letter too when the principal is not the legal representative); supervisors keep
the list in /settings; a reviewer marks a file as the wrong kind and it stops counting."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import MaterialRuleRow, OrderEvent
from console.services import orders, workbench
from console.services.actors import Actor
from console.services.errors import Conflict, Invalid
from tests.conftest import Browser, actor
from tests.factories import order_body
from tests.test_postreview import v

LICENCE = {"kind": "uscc_certificate", "filename": "营业执照.jpg", "sha256": "a" * 64, "size": 1000}
ID_COPY = {"kind": "principal_id", "filename": "身份证.jpg", "sha256": "b" * 64, "size": 1000}


def _material_findings(app, no: str) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(f["severity"], f["field"], f["message"]) for f in orders.get_order(no).findings
                if f["check"] == "materials"]


def _submit(app, **changes) -> str:
    with app.app_context():
        return orders.submit(order_body(**changes), Actor.portal("t"))[0].order_no


def test_a_missing_id_copy_is_an_error_naming_it_in_chinese(app, users):
    no = _submit(app, materials=[LICENCE])
    assert _material_findings(app, no) == [("error", "materials", "缺少资料：负责人身份证件")]


def test_a_principal_who_is_not_the_legal_representative_needs_an_authorisation_letter(app, users):
    no = _submit(app, **{"subject.legal_representative": "李四"})
    assert _material_findings(app, no) == [("error", "materials", "缺少资料：授权书")]
    letter = {"kind": "authorization_letter", "filename": "授权书.pdf", "sha256": "c" * 64, "size": 10}
    ok = _submit(app, **{"subject.legal_representative": "李四", "materials": [LICENCE, ID_COPY, letter]})
    assert _material_findings(app, ok) == []


def test_supervisors_change_what_a_subject_type_must_upload(app, users):
    carol = Browser(app, "carol")
    page = carol.get("/settings").get_data(as_text=True)
    assert 'id="materials"' in page and 'data-subject-type="enterprise"' in page
    answer = carol.post("/settings/materials/enterprise",
                        {"kinds": ["uscc_certificate", "principal_id", "verification_photo"]})
    assert answer.status_code == 302
    assert "企业的资料要求已保存" in carol.get(answer.headers["Location"]).get_data(as_text=True)
    no = _submit(app)
    assert _material_findings(app, no) == [("error", "materials", "缺少资料：核验照片（幕布照）")]
    with app.app_context():
        assert db.session.get(MaterialRuleRow, "enterprise").kinds == ["principal_id", "uscc_certificate",
                                                                       "verification_photo"]


def test_a_province_adds_materials_every_subject_there_must_upload(app, users):
    carol = Browser(app, "carol")
    form = carol.get("/settings?province=浙江").get_data(as_text=True)
    assert 'id="rule-materials"' in form
    answer = carol.post("/settings/provinces/浙江", {"bureau_limit_days": "", "mailing_address": "",
                                                    "mailing_items": "", "required_materials": ["verification_photo"]})
    assert answer.status_code == 302
    table = carol.get("/settings").get_data(as_text=True)
    row = table[table.index('data-province="浙江"'):]
    assert "核验照片（幕布照）" in row[:row.index("</tr>")]
    in_zhejiang = _submit(app)  # the example body's subject is in 浙江
    assert _material_findings(app, in_zhejiang) == [("error", "materials", "缺少资料：核验照片（幕布照）")]
    elsewhere = _submit(app, province="江苏")
    assert _material_findings(app, elsewhere) == []
    refused = carol.post("/settings/provinces/浙江", {"required_materials": ["fax_copy"]})
    assert refused.status_code == 422
    with app.app_context():
        from console.models import ProvinceRuleRow

        assert db.session.get(ProvinceRuleRow, "浙江").required_materials == ["verification_photo"]


@pytest.mark.parametrize(("path", "data", "status"), [
    ("/settings/materials/enterprise", {"kinds": ["fax_copy"]}, 422),
    ("/settings/materials/enterprise", {"kinds": ["uscc_certificate\x00"]}, 422),
    ("/settings/materials/martian", {"kinds": ["uscc_certificate"]}, 404),
])
def test_bad_material_rules_are_refused_and_change_nothing(app, users, path, data, status):
    carol = Browser(app, "carol")
    answer = carol.post(path, data)
    assert answer.status_code == status
    if status == 422:
        assert 'id="materials-errors"' in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(MaterialRuleRow)).all() == []
    assert Browser(app, "alice").post("/settings/materials/enterprise", {"kinds": []}).status_code == 403


def test_a_reviewer_marks_a_file_as_the_wrong_kind_and_it_stops_counting(app, users):
    no = _submit(app)
    alice = actor(app, users["alice"])
    with app.app_context():
        orders.claim(no, alice)
    browser = Browser(app, "alice")
    page = browser.get(f"/orders/{no}").get_data(as_text=True)
    assert "标记「id.jpg」与所标类型不符" in page
    answer = browser.post(f"/orders/{no}/materials/1/wrong-kind", {"version": v(app, no), "wrong": "1"})
    assert answer.status_code == 302
    assert [f[:2] for f in _material_findings(app, no)] == [("error", "materials"), ("warning", "materials[1]")]
    html = browser.get(f"/orders/{no}").get_data(as_text=True)
    assert "缺少资料：负责人身份证件" in html and "类型不符</span>" in html
    with app.app_context():
        entry = db.session.scalars(select(OrderEvent).where(OrderEvent.action == "edit")).one()
        assert entry.changes == {"materials[1].wrong_kind": [False, True]} and "id.jpg" in entry.note
        assert orders.get_order(no).error_count == 1
    browser.post(f"/orders/{no}/materials/1/wrong-kind", {"version": v(app, no), "wrong": "0"})
    assert _material_findings(app, no) == []


def test_marking_needs_the_current_version_a_real_file_and_the_initial_review(app, users):
    no = _submit(app)
    alice = actor(app, users["alice"])
    with app.app_context():
        orders.claim(no, alice)
        stale = v(app, no) - 1
        with pytest.raises(Conflict):
            workbench.mark_material(no, 0, True, alice, expected_version=stale)
        with pytest.raises(Invalid):
            workbench.mark_material(no, 7, True, alice, expected_version=v(app, no))
    browser = Browser(app, "alice")
    missing = browser.post(f"/orders/{no}/materials/99/wrong-kind", {"version": v(app, no), "wrong": "1"})
    assert missing.status_code == 422 and "此订单没有这份资料" in missing.get_data(as_text=True)
    huge = browser.post(f"/orders/{no}/materials/{10**30}/wrong-kind", {"version": v(app, no), "wrong": "1"})
    assert huge.status_code == 422
    assert browser.post(f"/orders/{no}/materials/0/wrong-kind", {"version": v(app, no), "wrong": "x"}).status_code == 422
    assert Browser(app, "bob").post(f"/orders/{no}/materials/0/wrong-kind",
                                    {"version": v(app, no), "wrong": "1"}).status_code in (403, 409)
    assert _material_findings(app, no) == []
