"""产品验证 with data: the portal reports the instance's region, owner account and service term
and the applicant's account; the checks use them. Old bodies without them still validate and get
one "not verified" warning."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from console.domain.order_body import body_hash, parse_order_body
from tests.conftest import Browser
from tests.factories import order_body

NEXT_YEAR = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
OWNED = {"product.owner_account": "acct-1001", "product.service_end": NEXT_YEAR, "applicant.account": "acct-1001"}


def _findings(api, no: str) -> list[tuple[str, str, str]]:
    return [(f["check"], f["severity"], f["field"]) for f in api.get(f"/orders/{no}").get_json()["findings"]
            if f["check"] == "product"]


def test_an_instance_in_hong_kong_marked_verified_is_an_error_beside_its_field(app, users, api):
    body = order_body(**{**OWNED, "product.region": "cn-hongkong", "product.verified": True})
    assert api.post("/orders", body).status_code == 201
    assert _findings(api, body["order_no"]) == [("product", "error", "product.region")]
    html = Browser(app, "alice").get(f"/orders/{body['order_no']}").get_data(as_text=True)
    cell = re.search(r'<dd id="f-product-region"[^>]*>(.*?)</dd>', html, re.S)
    assert cell and 'class="has-error' in html and "接入的云产品" in cell.group(1)
    assert "实例地域 cn-hongkong 不在中国内地" in html


def test_an_instance_of_another_account_or_about_to_expire_is_an_error(app, users, api):
    other = order_body(**{**OWNED, "product.owner_account": "acct-2002"})
    short = order_body(**{**OWNED, "product.service_end": (datetime.now(UTC) + timedelta(days=3)).date().isoformat()})
    for body in (other, short):
        assert api.post("/orders", body).status_code == 201
    assert _findings(api, other["order_no"]) == [("product", "error", "product.owner_account")]
    assert _findings(api, short["order_no"]) == [("product", "error", "product.service_end")]


def test_one_instance_behind_too_many_orders_is_a_warning(app, users, api):
    from console.services.settings import set_setting

    with app.app_context():
        set_setting("max_orders_per_instance", 2, actor_id=users["carol"])
    nos = []
    for _ in range(2):
        body = order_body(**{**OWNED, "product.instance_id": "i-shared"})
        assert api.post("/orders", body).status_code == 201
        nos.append(body["order_no"])
    assert [_findings(api, no) for no in nos] == [[], []]  # two orders on one instance: the limit
    third = order_body(**{**OWNED, "product.instance_id": "i-shared"})
    assert api.post("/orders", third).status_code == 201
    for no in (*nos, third["order_no"]):  # three: every one of them says so
        assert _findings(api, no) == [("product", "warning", "product.instance_id")]


def test_an_old_body_validates_and_gets_one_not_verified_warning(app, users, api):
    body = order_body()  # DESIGN.md's example: no owner, term or applicant account
    assert api.post("/orders", body).status_code == 201
    assert _findings(api, body["order_no"]) == [("product", "warning", "product.verified")]
    assert api.post("/orders", body).status_code == 200  # the same body again: still the same order


def test_the_fingerprint_of_an_old_body_does_not_change_with_the_new_fields():
    old = parse_order_body(order_body("JR-FP-1"))
    assert body_hash(old) == body_hash({k: v for k, v in old.items() if k != "applicant"} | {
        "product": {k: v for k, v in old["product"].items() if k not in ("owner_account", "service_end")}})


@pytest.mark.parametrize(("value", "message"), [("2026-13-01", "YYYY-MM-DD"), ("next year", "YYYY-MM-DD"),
                                                ("1999-01-01", "2000–2099"), ("2026-12-01T00:00", "最长 10")])
def test_a_bad_service_end_is_a_422_naming_the_field(app, users, api, value, message):
    answer = api.post("/orders", order_body(**{**OWNED, "product.service_end": value}))
    assert answer.status_code == 422
    assert any(message in m for m in answer.get_json()["fields"]["product.service_end"])


def test_the_openapi_document_describes_the_new_fields():
    from console.openapi import document

    product = document()["components"]["schemas"]["OrderBody"]["properties"]["product"]["properties"]
    assert product["service_end"]["format"] == "date" and "owner_account" in product
    assert "account" in document()["components"]["schemas"]["OrderBody"]["properties"]["applicant"]["properties"]


def test_the_documented_example_validates_and_is_accepted_without_product_findings(app, users, api):
    import jsonschema

    from console.openapi import EXAMPLE_BODY, document

    doc = document()
    jsonschema.validate(EXAMPLE_BODY, {**doc["components"]["schemas"]["OrderBody"], "components": doc["components"]},
                        cls=jsonschema.Draft202012Validator)
    body = {**EXAMPLE_BODY, "product": {**EXAMPLE_BODY["product"], "service_end": NEXT_YEAR}}
    assert api.post("/orders", body).status_code == 201
    assert _findings(api, body["order_no"]) == []
