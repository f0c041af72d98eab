"""Every 初审 check, table-driven: for each code a body (or context) that passes it and ones that
fail it, with the severity and field the finding must carry. Bodies start from DESIGN.md's
example (which passes every check) and change one thing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from console.domain.checks import (
    CHECKS,
    CheckContext,
    canonical_domain,
    domain_forms,
    registrable_part,
    run_checks,
)
from console.domain.provinces import PROVINCES
from tests.factories import order_body

ZJ = PROVINCES["浙江"]


TODAY = date(2026, 11, 29)
#: What a portal reports since round 2: the instance's owner and term, and the applicant's account.
OWNED = {"product.owner_account": "acct-1001", "product.service_end": "2027-11-29", "applicant.account": "acct-1001"}


def findings(code: str, ctx: CheckContext | None = None, **changes) -> list[tuple[str, str]]:
    """(severity, field) of ``code``'s findings for the example body (with ownership data) and
    ``changes``."""
    body = order_body(**{**OWNED, **changes})
    return [(f.severity, f.field) for f in CHECKS[code](body, ctx or CheckContext(province=ZJ, today=TODAY))]


def test_the_example_body_with_ownership_data_passes_every_check():
    assert run_checks(order_body(**OWNED), CheckContext(province=ZJ, today=TODAY)) == []


def test_the_design_example_without_ownership_data_gets_one_not_verified_warning():
    found = run_checks(order_body(), CheckContext(province=ZJ, today=TODAY))
    assert [(f.check, f.severity, f.field) for f in found] == [("product", "warning", "product.verified")]


def test_every_check_code_is_in_this_table():
    assert set(CHECKS) == {code for code, *_ in CASES}


#: The example body's website as the registry of earlier filings records it (services.filings.as_fact).
REGISTERED = {"website_filing_number": "浙ICP备12345678号-1", "subject_filing_number": "浙ICP备12345678号",
              "subject_name": "杭州云栈科技有限公司", "certificate_number": "91330106MA2B3C4D5D",
              "website_name": "云栈科技官网", "domains": ["yunzhan.cn"], "status": "active"}

#: (code, changes or context, expected [(severity, field)])
CASES = [
    ("same_province", {}, []),
    ("same_province", {"subject.mailing_address.province": "江苏"}, [("error", "subject.mailing_address.province")]),
    ("house_number", {}, []),
    ("house_number", {"subject.mailing_address.detail": "中山北路"}, [("error", "subject.mailing_address.detail")]),
    ("house_number", {"subject.mailing_address.detail": "一号路"}, [("error", "subject.mailing_address.detail")]),
    ("house_number", {"subject.mailing_address.detail": "一号路8号"}, []),
    ("house_number", {"subject.mailing_address.detail": "科技园3号楼"}, []),
    ("house_number", {"subject.mailing_address.detail": "中山北路", "subject.address_remark": "园区无门牌"},
     [("warning", "subject.mailing_address.detail")]),
    ("contacts", {}, []),
    ("contacts", {"principal.mobile": "12345"}, [("error", "principal.mobile")]),
    ("contacts", {"principal.mobile2": "abc"}, [("error", "principal.mobile2")]),
    ("contacts", {"principal.emergency_phone": "0571-8888"}, [("error", "principal.emergency_phone")]),
    ("contacts", {"principal.email": ""}, [("error", "principal.email")]),
    ("contacts", {"principal.email": "zhangwei@@yunzhan.cn"}, [("error", "principal.email")]),
    ("contacts", {"principal.mobile2": "0571-87654321", "principal.emergency_phone": "13900139000"}, []),
    ("sms_mobile", CheckContext(province=ZJ, sms_required=False), []),
    ("sms_mobile", CheckContext(province=ZJ, sms_required=True), []),
    ("sms_mobile", (CheckContext(province=ZJ, sms_required=True), {"principal.mobile": "0571-87654321"}),
     [("error", "principal.mobile")]),
    ("sms_mobile", (CheckContext(province=ZJ, sms_required=True), {"principal.mobile": "17012345678"}),
     [("warning", "principal.mobile")]),
    ("consistency", {}, []),
    ("consistency", {"website.name": "另一个网站"}, [("warning", "website.name")]),
    ("consistency", {"original_filing": {}}, [("warning", "original_filing")]),
    ("consistency", {"website.domains": ["例子.cn"], "original_filing.domains": ["xn--fsqu00a.cn"]}, []),
    ("consistency", {"website.domains": ["YunZhan.cn"]}, []),
    ("consistency", {"website.domains": ["other.cn"]}, [("warning", "website.domains")]),
    ("filing_number", {}, []),
    ("filing_number", {"subject.filing_number": ""}, [("error", "subject.filing_number")]),
    ("filing_number", {"website.filing_number": "浙ICP备12345678号"}, [("error", "website.filing_number")]),
    ("filing_number", {"subject.filing_number": "苏ICP备12345678号", "website.filing_number": "苏ICP备12345678号-1"},
     [("error", "subject.filing_number"), ("error", "website.filing_number")]),
    ("filing_number", {"website.filing_number": "浙ICP备87654321号-1"}, [("error", "website.filing_number")]),
    ("identity_number", {}, []),
    ("identity_number", {"principal.id_number": "330106199003071235"}, [("error", "principal.id_number")]),
    ("identity_number", {"subject.certificate_number": "91330106MA2B3C4D5X"},
     [("error", "subject.certificate_number")]),
    ("domain", {}, []),
    ("domain", {"website.domains": ["yunzhan.notarealtld"]}, [("error", "website.domains[0]")]),
    ("domain", {"website.domains": ["not a domain"]}, [("error", "website.domains[0]")]),
    ("domain", {"website.domains": ["www.yunzhan.cn"]}, [("warning", "website.domains[0]")]),
    ("domain", {"website.domains": ["yunzhan.com.cn", "例子.中国"]}, []),
    ("prechecks", {}, []),
    ("prechecks", {"product.verified": False}, [("error", "product.verified")]),
    ("prechecks", {"prechecks.filing_password_verified": False}, [("error", "prechecks.filing_password_verified")]),
    ("prechecks", {"prechecks.identity_verified": False}, [("error", "prechecks.identity_verified")]),
    ("prechecks", {"materials": []}, [("error", "materials")]),
    ("filing_type", {}, []),
    ("filing_type", CheckContext(province=ZJ, subject_has_approved=True), [("error", "kind")]),
    ("filing_type", (CheckContext(province=ZJ, subject_has_approved=True), {"kind": "continue_access"}), []),
    ("filing_type", {"kind": "continue_access"}, [("error", "kind")]),
    ("filing_type", (CheckContext(province=ZJ, subject_has_approved=True, subject_open_orders=("JR1",)),
                     {"kind": "continue_access"}), [("error", "kind")]),
    ("filing_type", CheckContext(province=ZJ, registered_subject_sites=(REGISTERED,)), [("error", "kind")]),
    ("filing_type", (CheckContext(province=ZJ, registered_subject_sites=(REGISTERED,)), {"kind": "continue_access"}),
     []),
    ("subject_conflict", {}, []),
    ("subject_conflict", CheckContext(province=ZJ, subject_bureau_orders=("JR9",)),
     [("error", "subject.certificate_number")]),
    ("subject_conflict", CheckContext(province=ZJ, registered_subject_sites=(REGISTERED,)), []),
    ("subject_conflict", CheckContext(province=ZJ, registered_number_holders=(
        {**REGISTERED, "subject_name": "另一家公司", "certificate_number": "91330106MA2B3C4D6F"},)),
     [("error", "subject.filing_number")]),
    ("subject_conflict", CheckContext(province=ZJ, registered_subject_sites=(
        {**REGISTERED, "subject_filing_number": "浙ICP备87654321号", "website_filing_number": "浙ICP备87654321号-1"},)),
     [("error", "subject.filing_number")]),
    ("consistency", CheckContext(province=ZJ, registered_site=REGISTERED), []),
    ("consistency", (CheckContext(province=ZJ, registered_site=REGISTERED), {"original_filing": {}}), []),
    ("consistency", CheckContext(province=ZJ, registered_site={**REGISTERED, "website_name": "云栈旧官网"}),
     [("warning", "website.name")]),
    ("consistency", CheckContext(province=ZJ, registered_site={**REGISTERED, "domains": ["yunzhan.com.cn"]}),
     [("warning", "website.domains")]),
    ("filing_number", CheckContext(province=ZJ, registered_site={**REGISTERED, "status": "cancelled"}),
     [("error", "website.filing_number")]),
    ("website_name", {}, []),
    ("website_name", {"website.name": "abc"}, [("error", "website.name")]),
    ("website_name", {"website.name": "云栈 Cloud 官网"}, []),
    ("website_name", {"website.name": "yunzhan.cn"}, [("error", "website.name"), ("error", "website.name")]),
    ("website_name", {"website.name": "中国云栈官网"}, [("error", "website.name")]),
    ("website_name", {"website.name": "中国云栈官网", "subject.type": "government"}, []),
    ("product", {}, []),
    ("product", {"product.region": "cn-hongkong"}, [("error", "product.region")]),
    ("product", {"product.region": "ap-southeast-1"}, [("error", "product.region")]),
    ("product", {"product.region": "cn-newplace"}, [("warning", "product.region")]),
    ("product", {"product.owner_account": "acct-2002"}, [("error", "product.owner_account")]),
    ("product", {"product.service_end": "2026-12-10"}, [("error", "product.service_end")]),
    ("product", {"product.service_end": "2026-12-29"}, []),
    ("product", {"product.instance_id": ""}, [("error", "product.instance_id")]),
    ("product", {"product.owner_account": ""}, [("warning", "product.verified")]),
    ("product", CheckContext(province=ZJ, today=TODAY, instance_orders=tuple(f"JR{i}" for i in range(5))),
     [("warning", "product.instance_id")]),
    ("product", CheckContext(province=ZJ, today=TODAY, instance_orders=("JR1", "JR2")), []),
    ("materials", {}, []),
    ("materials", {"materials": [{"kind": "uscc_certificate", "filename": "l.jpg", "sha256": "a" * 64, "size": 1}]},
     [("error", "materials")]),
    ("materials", {"subject.legal_representative": "李四"}, [("error", "materials")]),
    ("materials", {"subject.legal_representative": "张伟"}, []),
    ("materials", {"materials": [{"kind": "uscc_certificate", "filename": "l.jpg", "sha256": "a" * 64, "size": 1},
                                 {"kind": "principal_id", "filename": "i.jpg", "sha256": "b" * 64, "size": 1,
                                  "wrong_kind": True}]},
     [("error", "materials"), ("warning", "materials[1]")]),
    ("materials", {"subject.type": "individual", "materials": [
        {"kind": "principal_id", "filename": "i.jpg", "sha256": "b" * 64, "size": 1}]}, []),
    ("materials", (CheckContext(province=ZJ, today=TODAY, required_materials=("verification_photo",)), {}),
     [("error", "materials")]),
    ("materials", CheckContext(province=replace(ZJ, required_materials=("verification_photo",)), today=TODAY),
     [("error", "materials")]),
    ("repeated_phone", {}, []),
    ("repeated_phone", {"principal.mobile2": "13800138000"}, [("error", "principal.mobile2")]),
    ("repeated_phone", CheckContext(province=ZJ, phone_owners={"13800138000": ("另一家公司",)}),
     [("warning", "principal.mobile")]),
]


def _ids(case) -> str:
    code, given, expected = case
    return f"{code}-{'fails' if expected else 'passes'}-{abs(hash(repr(given))) % 10000}"


@pytest.mark.parametrize(("code", "given", "expected"), CASES, ids=[_ids(c) for c in CASES])
def test_each_check(code, given, expected):
    ctx, changes = None, {}
    if isinstance(given, CheckContext):
        ctx = given
    elif isinstance(given, tuple):
        ctx, changes = given
    else:
        changes = given
    assert findings(code, ctx, **changes) == expected


def test_every_code_has_a_passing_and_a_failing_case():
    for code in CHECKS:
        outcomes = {bool(expected) for c, _, expected in CASES if c == code}
        assert outcomes == {True, False}, code


def test_identical_information_is_an_error_where_the_province_requires_it():
    strict = CheckContext(province=replace(ZJ, consistency_required=True))
    assert findings("consistency", strict, **{"website.name": "另一个网站"}) == [("error", "website.name")]
    assert findings("consistency", strict, **{"website.domains": ["例子.cn"],
                                               "original_filing.domains": ["xn--fsqu00a.cn"]}) == []


@pytest.mark.parametrize(("name", "canonical"), [("例子.cn", "xn--fsqu00a.cn"), ("XN--FSQU00A.CN", "xn--fsqu00a.cn"),
                                                 ("YunZhan.cn.", "yunzhan.cn"), ("not a domain", "not a domain")])
def test_domains_compare_in_one_canonical_form(name, canonical):
    assert canonical_domain(name) == canonical


@pytest.mark.parametrize(("name", "registrable"), [("www.yunzhan.com.cn", "yunzhan.com.cn"),
                                                   ("a.b.gov.cn", "b.gov.cn"), ("yunzhan.cn", "yunzhan.cn"),
                                                   ("shop.yunzhan.co.uk", "yunzhan.co.uk"),
                                                   ("www.例子.中国", "例子.中国")])
def test_registrable_domains_follow_the_public_suffix_list(name, registrable):
    assert registrable_part(domain_forms(name)[1]) == domain_forms(registrable)[1]


@pytest.mark.parametrize("name", ["yunzhan.notarealtld", "com.cn", "cn", "yunzhan..cn"])
def test_unknown_suffixes_and_bare_suffixes_are_not_domains(name):
    assert domain_forms(name) is None



# All 31 provinces against the table of DOMAIN.md, typed again here (not read from the code):
# ICP prefix and the first day SMS verification applies ("—" in the table: 2020-08-17, when it
# became national).
PROVINCE_TABLE = """
北京 京 — | 天津 津 2017-12-18 | 河北 冀 — | 山西 晋 2018-09-24 | 内蒙古 蒙 2018-09-24 | 辽宁 辽 — | 吉林 吉 — |
黑龙江 黑 2018-09-24 | 上海 沪 — | 江苏 苏 — | 浙江 浙 2018-09-10 | 安徽 皖 2018-09-24 | 福建 闽 2018-09-10 |
江西 赣 — | 山东 鲁 2018-09-24 | 河南 豫 2018-09-24 | 湖北 鄂 2018-09-24 | 湖南 湘 2018-09-24 | 广东 粤 — |
广西 桂 2018-09-10 | 海南 琼 2017-12-18 | 重庆 渝 2018-09-10 | 四川 蜀 2018-09-10 | 贵州 黔 — | 云南 滇 2018-09-10 |
西藏 藏 2017-12-18 | 陕西 陕 2018-09-10 | 甘肃 陇 2017-12-18 | 青海 青 2017-12-18 | 宁夏 宁 2017-12-18 |
新疆 新 2017-12-18
"""
PROVINCE_ROWS = [tuple(cell.split()) for cell in PROVINCE_TABLE.replace("\n", " ").split("|")]


def test_the_table_has_all_31_provinces_and_the_code_no_others():
    assert len(PROVINCE_ROWS) == 31 and {p for p, *_ in PROVINCE_ROWS} == set(PROVINCES)


@pytest.mark.parametrize(("province", "prefix", "sms_from"), PROVINCE_ROWS)
def test_each_provinces_icp_prefix_and_sms_start(province, prefix, sms_from):
    from datetime import date, timedelta

    from console.domain.checks import filing_number_problem, sms_required

    rule = PROVINCES[province]
    assert rule.icp_prefix == prefix
    start = date.fromisoformat("2020-08-17" if sms_from == "—" else sms_from)
    assert not sms_required(rule, start - timedelta(days=1)) and sms_required(rule, start)
    assert filing_number_problem(f"{prefix}ICP备12345678号-1", website=True, province=province) is None
    other = "京" if prefix != "京" else "沪"
    assert filing_number_problem(f"{other}ICP备12345678号-1", website=True, province=province)
