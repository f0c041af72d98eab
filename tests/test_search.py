"""Global search (/search): any order in any state, found by what an applicant reads out."""

from __future__ import annotations

import pytest

from console.domain.workflow import Action
from console.services import orders, postreview
from console.services import search as search_service
from console.services.actors import Actor
from tests.conftest import Browser, actor
from tests.factories import order_body
from tests.test_postreview import BOSS, v


def _approved_order(app) -> str:
    """An order the bureau approved: closed, in no queue (the case a specialist could not find)."""
    body = order_body("JR-APPROVED-1", submitted_at="2018-09-09T10:00:00+08:00", **{
        "subject.name": "宁波海岸线文化传播有限公司", "subject.certificate_number": "91330201MA2ABCDE1X",
        "website.name": "海岸线文化", "website.domains": ["例子.cn", "coast.example.cn"],
        "principal.name": "李娜", "principal.id_number": "33020119851212002X",
        "principal.mobile": "13912345678", "principal.mobile2": "0574-87654321",
        "principal.email": "LiNa@Coast.example.cn", "subject.filing_number": "浙ICP备20261129号",
        "website.filing_number": "浙ICP备20261129号-1"})
    with app.app_context():
        no = orders.submit(body, Actor.portal("t"))[0].order_no
        orders.decide(no, Action.APPROVE, BOSS, expected_version=v(app, no))
        postreview.bureau_approve(no, "浙ICP备20261129号-1", BOSS, expected_version=v(app, no))
        assert orders.get_order(no).state == "approved"
    return no


def orders_claim(app, no: str, user_id: int) -> None:
    who = actor(app, user_id)
    with app.app_context():
        orders.claim(no, who)


def _others(app, n: int = 3) -> None:
    with app.app_context():
        for _ in range(n):
            orders.submit(order_body(), Actor.portal("t"))


@pytest.mark.parametrize(("query", "matched"), [
    ("JR-APPROVED-1", "订单号"),
    ("jr-approved-1", "订单号"),
    ("91330201MA2ABCDE1X", "证件号码"),
    ("91330201ma2abcde1x", "证件号码"),
    ("33020119851212002x", "负责人证件号码"),
    ("13912345678", "联系电话"),
    ("+86 139 1234 5678", "联系电话"),
    ("0574-87654321", "联系电话"),
    ("lina@coast.example.cn", "电子邮箱"),
    ("例子.cn", "域名"),
    ("xn--fsqu00a.cn", "域名"),
    ("COAST.example.cn", "域名"),
    ("浙ICP备20261129号-1", "备案号"),
    ("李娜", "负责人姓名"),
    ("海岸线文化传播", "主办单位名称"),
    ("宁波海岸线文化传播有限公司", "主办单位名称"),
])
def test_a_closed_order_is_found_by_each_identifier(app, users, query, matched):
    no = _approved_order(app)
    _others(app)
    with app.app_context():
        result = search_service.search(query)
    assert [r.order_no for r in result.rows] == [no]
    assert result.matched[result.rows[0].id] == matched
    assert result.rows[0].state == "approved"


def test_a_fragment_of_the_website_name_finds_it_and_wildcards_are_literal(app, users):
    no = _approved_order(app)
    _others(app)
    with app.app_context():
        assert [r.order_no for r in search_service.search("岸线文化").rows] == [no]
        assert search_service.search("%%%").rows == []
        assert search_service.search("海_线文化").rows == []


def test_short_fragments_search_only_exact_names_and_say_so(app, users):
    _approved_order(app)
    with app.app_context():
        result = search_service.search("海岸")
    assert result.rows == [] and "至少输入 3 个字" in result.hint


def test_many_hits_are_capped_and_say_there_are_more(app, users):
    _others(app, 23)
    with app.app_context():
        result = search_service.search("杭州云栈科技有限公司")
    assert len(result.rows) == search_service.LIMIT and result.more


def test_the_page_shows_state_deadline_assignee_and_links_to_the_workspace(app, users):
    no = _approved_order(app)
    with app.app_context():
        open_no = orders.submit(order_body(**{"principal.mobile": "13912345678"}), Actor.portal("t"))[0].order_no
    orders_claim(app, open_no, users["bob"])
    alice = Browser(app, "alice")
    page = alice.get("/search?q=13912345678")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'href="/orders/{no}"' in html and f'href="/orders/{open_no}"' in html
    assert "接入成功" in html and "浙ICP备20261129号-1" in html  # the closed order: state and result
    assert "审核员乙" in html  # the open order's assignee
    assert "24:00 前" in html  # the open order's stage deadline
    fragment = alice.get("/search?q=13912345678", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and f'href="/orders/{no}"' in fragment


@pytest.mark.parametrize("query", ["a\x00b", "x" * 101, "\u202e1234567", "%' OR 1=1 --", "<script>alert(1)</script>"])
def test_hostile_queries_get_a_clear_answer_not_a_500(app, users, query):
    alice = Browser(app, "alice")
    page = alice.get("/search", query_string={"q": query})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in html


def test_search_needs_a_signed_in_staff_member(app, users):
    anonymous = app.test_client()
    assert anonymous.get("/search?q=JR").status_code in (302, 401)
    anonymous_fragment = anonymous.get("/search?q=JR", headers={"HX-Request": "true"})
    assert anonymous_fragment.status_code in (302, 401) and "JR" not in anonymous_fragment.get_data(as_text=True)
