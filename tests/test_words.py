"""Every code a reviewer reads is Chinese: material kinds, e-mail problems (email-validator's
English is translated), with a fallback that still says something."""

from __future__ import annotations

import re

import pytest

from console.domain.emails import email_problem
from console.domain.materials import MATERIAL_KINDS, material_label
from console.services import orders
from console.services.actors import Actor
from tests.conftest import Browser
from tests.factories import order_body

ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")


@pytest.mark.parametrize("address", ["zhangwei@", "@x.cn", "a b@x.cn", "a@@x.cn", "a@x", "a..b@x.cn", "a@-x.cn",
                                     "a@[1.2.3.4]", "ab", "a@" + "x" * 70 + ".cn", "a\u200b@x.cn", "a@x_y.cn",
                                     "a.@x.cn", ".a@x.cn"])
def test_every_email_problem_is_said_in_chinese(address):
    problem = email_problem(address)
    assert problem and not ENGLISH_WORD.search(problem), problem


def test_a_good_address_has_no_problem():
    assert email_problem("zhangwei@yunzhan.cn") is None and email_problem("测试@例子.cn") is None


def test_material_kinds_have_chinese_names_and_unknown_codes_stay_visible():
    assert all(not ENGLISH_WORD.search(label) for label in MATERIAL_KINDS.values())
    assert material_label("uscc_certificate").startswith("营业执照")
    assert material_label("fax_copy") == "其他资料（fax_copy）"


def test_the_workspace_names_materials_and_email_findings_in_chinese(app, users):
    body = order_body(**{"principal.email": "zhangwei@@yunzhan.cn"})
    with app.app_context():
        no = orders.submit(body, Actor.portal("t"))[0].order_no
    html = Browser(app, "alice").get(f"/orders/{no}").get_data(as_text=True)
    assert "营业执照 / 统一社会信用代码证书</td>" in html
    finding = re.search(r'<li[^>]*data-check="contacts"[^>]*>(.*?)</li>', html, re.S).group(1)
    assert "电子邮箱「zhangwei@@yunzhan.cn」无效：@ 后面的域名含有无效字符" in finding
    assert not ENGLISH_WORD.search(re.sub(r"<[^>]+>|zhangwei@@yunzhan\.cn", "", finding))


def test_an_admin_setting_a_bad_email_reads_chinese(app, users):
    from console.services import accounts
    from console.services.errors import Invalid

    with app.app_context(), pytest.raises(Invalid) as caught:
        accounts.set_email(users["alice"], "alice@localhost", actor_id=users["dave"])
    assert caught.value.fields["email"] == ["电子邮箱无效：@ 后面的域名不完整（缺少句点）"]
