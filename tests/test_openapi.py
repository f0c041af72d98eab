"""The published OpenAPI document is true: real responses validate against it, and generated
requests (valid bodies, near-misses and arbitrary JSON) only ever get documented statuses."""

from __future__ import annotations

import json
import os
import re

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.openapi import document
from tests.factories import order_body

DOC = document()
FUZZ = settings(max_examples=int(os.environ.get("CONSOLE_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


def operation(path: str, method: str) -> dict:
    """The documented operation for a concrete request path (``/orders/JR1/abandon``)."""
    for template, operations in DOC["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method in operations:
            return operations[method]
    raise AssertionError(f"undocumented: {method.upper()} {path}")


def check(response, path: str, method: str = "post") -> None:
    """The status is documented for the operation and the body validates against its schema."""
    documented = operation(path, method)["responses"]
    status = str(response.status_code)
    assert status in documented, (method, path, status, response.get_data(as_text=True)[:300])
    schema = documented[status]["content"]["application/json"]["schema"]
    jsonschema.validate(response.get_json(), {**schema, "components": DOC["components"]},
                        cls=jsonschema.Draft202012Validator)


def test_the_document_is_served_and_its_schemas_are_valid_json_schema(app):
    served = app.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json()["openapi"] == "3.1.0"
    for schema in DOC["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_the_example_body_of_the_design_validates_against_the_documented_schema():
    schema = {**DOC["components"]["schemas"]["OrderBody"], "components": DOC["components"]}
    jsonschema.validate(order_body(), schema, cls=jsonschema.Draft202012Validator)


def test_real_responses_of_every_operation_match_the_document(app, api):
    body = order_body()
    no = body["order_no"]
    check(api.post("/orders", body), "/orders")  # 201
    check(api.post("/orders", body), "/orders")  # 200, the same body again
    check(api.post("/orders", {**body, "kind": "continue_access"}), "/orders")  # 409
    check(api.post("/orders", {**body, "kind": "x"}), "/orders")  # 422
    check(api.raw.post("/api/v1/orders", data="{", content_type="application/json",
                       headers={"Authorization": "Bearer " + api.token}), "/orders")  # 400
    check(api.raw.post("/api/v1/orders", json=body), "/orders")  # 401
    check(api.get(f"/orders/{no}"), f"/orders/{no}", "get")  # 200
    check(api.get("/orders/NOPE"), "/orders/NOPE", "get")  # 404
    check(api.post(f"/orders/{no}/sms-verified", {"verified_at": "yesterday"}), f"/orders/{no}/sms-verified")
    check(api.post(f"/orders/{no}/resubmit", body), f"/orders/{no}/resubmit")  # 409: not returned
    check(api.post(f"/orders/{no}/abandon"), f"/orders/{no}/abandon")  # 200
    check(api.post(f"/orders/{no}/revoke"), f"/orders/{no}/revoke")  # 409: abandoned already
    huge = {**body, "order_no": "JR-BIG", "website": {**body["website"], "name": "名" * 600_000}}
    check(api.post("/orders", huge), "/orders")  # 413


def from_schema(schema: dict) -> st.SearchStrategy:
    """Values of the documented shapes (objects, strings with enums, patterns, lengths and
    date-times, integers, booleans, arrays): enough of JSON Schema for this document."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: from_schema(v) for k, v in props.items() if k in required},
                                     optional={k: from_schema(v) for k, v in props.items() if k not in required})
    if kind == "array":
        return st.lists(from_schema(schema["items"]), min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 5), 5))
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if schema.get("format") == "date-time":
        return st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat())
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 30), 30))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children,
                                                                                      max_size=4),
                    max_leaves=20)


@FUZZ
@given(body=from_schema(DOC["components"]["schemas"]["OrderBody"]))
def test_generated_order_bodies_get_documented_answers(app, api, body):
    check(api.post("/orders", body), "/orders")


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(["order_no", "kind", "submitted_at", "subject", "website",
                                                "principal", "materials", "original_filing", "product"]),
                               JSON, min_size=1, max_size=3))
def test_near_miss_bodies_get_documented_answers(app, api, changes):
    check(api.post("/orders", {**order_body(), **changes}), "/orders")


@FUZZ
@given(raw=JSON)
def test_arbitrary_json_gets_documented_answers(app, api, raw):
    response = api.raw.post("/api/v1/orders", data=json.dumps(raw), content_type="application/json",
                            headers={"Authorization": "Bearer " + api.token})
    check(response, "/orders")


@FUZZ
@given(segment=st.text(min_size=1, max_size=60).filter(lambda s: "/" not in s and s not in (".", "..")),
       verb=st.sampled_from(["", "/abandon", "/revoke", "/resubmit", "/sms-verified"]),
       payload=JSON)
def test_any_order_number_and_payload_on_any_order_operation(app, api, segment, verb, payload):
    from urllib.parse import quote

    path = f"/orders/{quote(segment, safe='')}{verb}"
    if verb:
        response = api.raw.post("/api/v1" + path, data=json.dumps(payload), content_type="application/json",
                                headers={"Authorization": "Bearer " + api.token})
        check(response, f"/orders/x{verb}")
    else:
        check(api.get(path), "/orders/x", "get")


@pytest.mark.parametrize("path", list(DOC["paths"]))
def test_every_documented_path_exists(app, path):
    concrete = "/api/v1" + path.replace("{order_no}", "JR1")
    adapter = app.url_map.bind("localhost")
    method = next(iter(DOC["paths"][path])).upper()
    assert adapter.match(concrete, method=method)


def test_the_feed_and_every_webhook_payload_match_the_document(app, api):
    from tests.receiver import Receiver
    from tests.test_webhooks import deliver, endpoint

    body = order_body()
    with Receiver() as receiver:
        endpoint(app, receiver.url)
        api.post("/orders", body)
        api.post(f"/orders/{body['order_no']}/abandon")
        deliver(app)
        assert [r["event"]["type"] for r in receiver.received] == ["order.submitted", "order.abandoned"]
        for got in receiver.received:
            hook = DOC["webhooks"][got["event"]["type"]]["post"]
            schema = hook["requestBody"]["content"]["application/json"]["schema"]
            jsonschema.validate(got["event"], {**schema, "components": DOC["components"]},
                                cls=jsonschema.Draft202012Validator)
            documented = {p["name"] for p in hook["parameters"] if p["in"] == "header"}
            assert documented <= set(got["headers"])
    check(api.get("/events?after=0&limit=10"), "/events", "get")  # 200
    check(api.get("/events?limit=0"), "/events", "get")  # 422
    check(api.raw.get("/api/v1/events"), "/events", "get")  # 401
