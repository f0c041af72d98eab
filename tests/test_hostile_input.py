"""Hostile input, everywhere: every value below gets a clear 4xx and changes nothing.

NUL and other control characters, integers beyond PostgreSQL's range, moments in year 1 or
9999, deeply nested JSON, non-finite numbers: each once answered 500 somewhere.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.services import orders
from console.services.actors import Actor
from tests.conftest import Browser, actor
from tests.factories import order_body

NUL = "a\x00b"
HUGE = str(2**63)


def database_state(app) -> dict:
    """Rows per table and the sum of order versions: any change at all shows here. (Not the
    ``snapshots`` cache: reading the board after a refusal may compute the statistics rollup.)"""
    with app.app_context():
        state = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables
                 if t.name != "snapshots"}
        state["versions"] = db.session.scalar(select(func.coalesce(func.sum(db.metadata.tables["orders"].c.version), 0)))
        return state


@pytest.fixture
def claimed(app, users) -> str:
    """An order in 初审, claimed by alice."""
    with app.app_context():
        order, _ = orders.submit(order_body(), Actor.portal("t"))
        orders.claim(order.order_no, actor(app, users["alice"]))
        return order.order_no


def _material(**over) -> dict:
    material = {"kind": "uscc_certificate", "filename": "license.jpg", "sha256": "a" * 64, "size": 1024}
    return {**material, **over}


API_BODIES = {
    "NUL in subject.name": (order_body(**{"subject.name": NUL}), 422, "subject.name"),
    "NUL in a material's filename": (order_body(materials=[_material(filename=NUL)]), 422, "materials[0].filename"),
    "line break in subject.name": (order_body(**{"subject.name": "云栈\r\nBcc: x@example.com"}), 422, "subject.name"),
    "NUL in a key": ({**order_body(), "x\x00": 1}, 422, "x\x00"),
    "size beyond integer": (order_body(materials=[_material(size=2**31)]), 422, "materials[0].size"),
    "submitted in year 1": (order_body(submitted_at="0001-01-01T00:00:00+08:00"), 422, "submitted_at"),
    "submitted in year 9999": (order_body(submitted_at="9999-12-31T23:59:59+08:00"), 422, "submitted_at"),
}


@pytest.mark.parametrize("case", list(API_BODIES))
def test_hostile_api_bodies_are_refused_with_the_field_named(app, api, case):
    body, status, field = API_BODIES[case]
    before = database_state(app)
    response = api.post("/orders", body)
    assert response.status_code == status, (case, response.status_code)
    assert field in response.get_json()["fields"], response.get_json()
    assert database_state(app) == before


def test_deeply_nested_json_is_a_400(app, api, token):
    before = database_state(app)
    deep = "[" * 100_000 + "]" * 100_000
    response = api.raw.post("/api/v1/orders", data=deep, content_type="application/json",
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (400, 413) and response.get_json()["error"]
    nested = {"order_no": "JR-DEEP"}
    node = nested
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    response = api.post("/orders", nested)
    assert response.status_code == 400 and "嵌套" in response.get_json()["message"]
    assert database_state(app) == before


@pytest.mark.parametrize("verified_at", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59+08:00",
                                         "2026-11-29T10:00:00", "x\x00"])
def test_sms_verified_with_an_odd_moment_is_a_422(app, api, verified_at):
    no = api.post("/orders", order_body()).get_json()["order_no"]
    before = database_state(app)
    response = api.post(f"/orders/{no}/sms-verified", {"verified_at": verified_at})
    assert response.status_code == 422 and "verified_at" in response.get_json()["fields"]
    assert database_state(app) == before


@pytest.mark.parametrize("path", ["/orders/ab%00cd", "/orders/" + "x" * 41, "/orders/a%20b"])
def test_malformed_order_numbers_in_api_paths_are_404(app, api, path):
    response = api.get(path)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


HTML_POSTS = [
    # (path template, data, where the message is expected)
    ("/orders/{no}/notes", {"text": NUL}, "控制字符"),
    ("/orders/{no}/calls", {"number": "13800138000", "reached": "1", "note": NUL}, "控制字符"),
    ("/orders/{no}/calls", {"number": NUL, "reached": "1"}, "控制字符"),
    ("/orders/{no}/reject", {"version": "{v}", "reasons": ["other"], "note": NUL}, "控制字符"),
    ("/orders/{no}/approve", {"version": HUGE}, "版本号无效"),
    ("/settings/reasons", {"code": "ok_code", "label": NUL}, "控制字符"),
    ("/settings/calendar", {"day": "2026-12-01", "kind": "off", "note": NUL}, "控制字符"),
    ("/settings/sla", {"stage": "initial_review", "limit": HUGE, "unit": "working_days"}, "时限无效"),
    ("/settings/general", {"session_idle_minutes": HUGE}, "空闲超时"),
    ("/settings/calendar/year", {"year": HUGE, "schedule": "2027-01-01 休 元旦"}, "年份"),
]


@pytest.mark.parametrize(("path", "data", "message"), HTML_POSTS, ids=[f"{p} {list(d)}" for p, d, _ in HTML_POSTS])
def test_hostile_form_values_are_a_4xx_with_a_message(app, users, claimed, path, data, message):
    carol = Browser(app, "carol")
    with app.app_context():
        version = orders.get_order(claimed).version
    data = {k: (v.replace("{v}", str(version)) if isinstance(v, str) else v) for k, v in data.items()}
    before = database_state(app)
    response = carol.post(path.format(no=claimed), data)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert message in response.get_data(as_text=True), path
    assert database_state(app) == before


@pytest.mark.parametrize("data", [{"note": NUL}, {"starts_on": "0001-01-01", "ends_on": "9999-99-99"}])
def test_hostile_absences_are_refused(app, users, data):
    carol = Browser(app, "carol")
    before = database_state(app)
    form = {"user_id": str(users["alice"]), "starts_on": "2026-12-01", "ends_on": "2026-12-02", **data}
    response = carol.post("/supervisor/absences", form)
    assert response.status_code == 302
    assert "请选择人员并填写开始和结束日期" in carol.get(response.headers["Location"]).get_data(as_text=True)
    assert database_state(app) == before


@pytest.mark.parametrize("snapshot", ["1e20", "inf", "nan", "-1"])
def test_a_hostile_reassignment_snapshot_moves_nothing(app, users, claimed, snapshot):
    carol = Browser(app, "carol")
    before = database_state(app)
    response = carol.post("/supervisor/reassign", {"order": claimed, "scope": "selected", "to": "none",
                                                   "reason": "x", "snapshot": snapshot, "back": "/supervisor"})
    assert response.status_code == 302
    assert "页面时间无效" in carol.get(response.headers["Location"]).get_data(as_text=True)
    assert database_state(app) == before


@pytest.mark.parametrize("path", [f"/bureau/imports/{HUGE}", f"/bureau/imports/{2**31}", "/orders/x%00",
                                  f"/admin/filings/imports/{HUGE}", "/orders/x%00/edit/website"])
def test_ids_and_order_numbers_beyond_range_in_pages_are_404(app, users, path):
    assert Browser(app, "carol").get(path).status_code == 404


@pytest.mark.parametrize("path", [f"/supervisor/release/{HUGE}", f"/supervisor/absences/{2**31}/delete",
                                  "/orders/x%00/notes", "/orders/x%00/claim"])
def test_posts_to_ids_beyond_range_are_404(app, users, path):
    carol = Browser(app, "carol")
    before = database_state(app)
    assert carol.post(path, {"text": "x"}).status_code == 404
    assert database_state(app) == before


@pytest.mark.parametrize("query", [f"?after=1_{HUGE}", "?after=1e400_1", f"?q={NUL}", f"?assignee={HUGE}",
                                   "?after=x"])
def test_hostile_queue_parameters_still_show_the_queue(app, users, claimed, query):
    response = Browser(app, "alice").get("/queues/initial-review" + query)
    assert response.status_code == 200


def test_alert_acknowledgement_with_huge_ids_is_refused(app, users):
    alice = Browser(app, "alice")
    before = database_state(app)
    response = alice.post("/alerts/acknowledge", {"ids": [HUGE]}, htmx=True)
    assert response.status_code == 422
    assert database_state(app) == before


def test_a_nul_username_at_sign_in_is_a_422_not_a_500(app, users):
    response = Browser(app).login("ali\x00ce")
    assert response.status_code == 422 and "控制字符" in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["display_name", "username"])
def test_nul_in_a_new_user_is_refused(app, users, field):
    admin = Browser(app, "dave")
    data = {"username": "erin", "display_name": "E", "role": "specialist", "password": "a perfectly long passphrase"}
    data[field] = "er\x00in"
    before = database_state(app)
    assert admin.post("/admin/users", data).status_code == 422
    assert database_state(app) == before


def test_nul_in_a_token_name_is_refused(app, users):
    admin = Browser(app, "dave")
    before = database_state(app)
    response = admin.post("/admin/tokens", {"name": "portal\x00"})
    assert response.status_code == 422 and "控制字符" in response.get_data(as_text=True)
    assert database_state(app) == before


def test_the_hostile_cases_are_json_serialisable():
    json.dumps(list(API_BODIES))  # ids readable in test reports


#: POST endpoints that take no input but the CSRF token: only their path can be hostile.
NO_INPUT = {"admin.activate", "admin.deactivate", "admin.revoke_api_token", "admin.sign_out_everywhere",
            "imports.apply", "orders.claim", "orders.presence", "queues.claim_next", "queues.claim",
            "queues.unclaim", "settings.calendar_delete", "supervisor.delete_absence", "auth.keepalive",
            "webhooks.rotate", "webhooks.disable", "webhooks.enable", "webhooks.replay_all", "webhooks.replay_one",
            "filings.apply"}
#: Signing in and out are tested on their own (a NUL user name above; logging out ends the session).
NOT_WALKED = {"auth.login", "auth.logout"}
#: Every field name the console's forms use, each given a hostile value.
HOSTILE_FORM = {name: NUL for name in (
    "text", "note", "number", "reasons", "override_reason", "courier", "tracking_no", "received_on", "verified_at",
    "fail-reason", "reject-reason", "filing_number", "reason", "item_0", "note_0", "website__name",
    "website__domains", "edit_note", "username", "display_name", "role", "email", "password", "name", "ids", "stage",
    "limit", "unit", "day", "kind", "year", "schedule", "code", "label", "active", "session_idle_minutes",
    "sms_required_from", "bureau_limit_days", "mailing_address", "mailing_items", "user_id", "starts_on",
    "ends_on", "to", "queue", "order", "snapshot", "back", "template", "url", "event_types", "after_decision",
    "at", "kinds", "wrong", "required_materials")} | {"version": HUGE, "fail-version": HUGE,
                                                                  "reject-version": HUGE, "scope": "all"}
HOSTILE_PATH = {"order_no": "x%00y", "id": str(2**31), "queue": "x%00", "section": "x%00", "province": "x%00",
                "day": "2026-13-45", "position": str(10**30), "subject_type": "x%00", "event_type": "x%00"}


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" in rule.methods and not rule.endpoint.startswith("api.") and rule.endpoint not in NOT_WALKED:
            yield rule


def _path(rule, values: dict[str, str]) -> str:
    import re

    def value(match) -> str:
        converter, name = match.group(1), match.group(2)
        return values.get(converter) or values.get(name, "x")

    return re.sub(r"<(?:([a-z_]+):)?([a-z_]+)>", value, rule.rule)


def test_every_html_post_with_hostile_values_is_refused_and_changes_nothing(app, users, claimed):
    """Each POST route twice: hostile path parameters, then real ones with every field hostile.
    Each answer is a 4xx, or a redirect to a page that says what was wrong; no row changes."""
    dave = Browser(app, "dave")  # an admin may do everything, so refusals are about input, not rights
    real = {"order_no": claimed, "id": "1", "queue": "initial-review", "section": "website", "province": "北京",
            "day": "2026-12-01", "subject_type": "enterprise", "position": "0", "event_type": "order.submitted"}
    walked = 0
    for rule in _rules(app):
        before = database_state(app)
        if rule.arguments:
            response = dave.post(_path(rule, HOSTILE_PATH), {})
            assert 400 <= response.status_code < 500, (rule.rule, "hostile path", response.status_code)
            assert database_state(app) == before, (rule.rule, "hostile path")
        if rule.endpoint in NO_INPUT:
            continue
        response = dave.post(_path(rule, real), HOSTILE_FORM)
        if response.status_code == 302:
            page = dave.get(response.headers["Location"]).get_data(as_text=True)
            assert 'class="flash error"' in page, (rule.rule, "redirected without saying what was wrong")
        else:
            assert 400 <= response.status_code < 500, (rule.rule, response.status_code)
            assert 'role="alert"' in response.get_data(as_text=True) or 'class="errors"' in \
                response.get_data(as_text=True), (rule.rule, "no message")
        assert database_state(app) == before, (rule.rule, "hostile form")
        walked += 1
    assert walked >= 25
