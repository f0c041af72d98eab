"""The portal API contract: intake, idempotency, errors, termination, progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from console.domain.calendar import SHANGHAI
from console.extensions import db
from console.models import Order, OrderEvent
from tests.factories import DELETE, EXAMPLE_BODY, order_body


def count_orders(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Order.id)))


def test_the_design_example_creates_an_order_in_initial_review_due_by_the_working_day_rule(api, app):
    response = api.post("/orders", EXAMPLE_BODY)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["state"] == "initial_review" and data["order_no"] == "JR2026112800001"
    # Submitted Saturday 2026-11-28 09:30 (Shanghai): the next working day is Monday 11-30,
    # so the 初审 is due at the end of Monday (24:00 Shanghai = 16:00 UTC).
    assert datetime.fromisoformat(data["due_at"]) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert data["due_estimated"] is False
    assert data["history"][0]["to"] == "initial_review"
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.province == "浙江" and order.main_domain == "yunzhan.cn"
        assert [d.domain for d in order.domains] == ["yunzhan.cn"]
        assert order.version == 1


def test_reposting_the_same_body_returns_the_same_order(api, app):
    first = api.post("/orders", EXAMPLE_BODY).get_json()
    again = api.post("/orders", EXAMPLE_BODY)
    assert again.status_code == 200
    assert again.get_json()["stage_entered_at"] == first["stage_entered_at"]
    assert count_orders(app) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(OrderEvent.id))) == 1


def test_reposting_a_changed_body_is_a_conflict_and_changes_nothing(api, app):
    api.post("/orders", EXAMPLE_BODY)
    changed = order_body("JR2026112800001", **{"website.name": "另一个网站名称"})
    response = api.post("/orders", changed)
    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict"
    with app.app_context():
        assert db.session.scalar(select(Order.website_name)) == "云栈科技官网"


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "transfer"}, "kind"),
    ({"submitted_at": "yesterday"}, "submitted_at"),
    ({"submitted_at": "2026-11-28T09:30:00"}, "submitted_at"),
    ({"subject.certificate_address.province": "火星"}, "subject.certificate_address.province"),
    ({"subject.name": DELETE}, "subject.name"),
    ({"subject.name": "   "}, "subject.name"),
    ({"subject.type": "company"}, "subject.type"),
    ({"principal.mobile": 13800138000}, "principal.mobile"),
    ({"website.domains": []}, "website.domains"),
    ({"website.domains": ["a.cn", "a.cn"]}, "website.domains"),
    ({"product.verified": "yes"}, "product.verified"),
    ({"materials": [{"kind": "x", "filename": "y", "sha256": "nothex", "size": 1}]}, "materials[0].sha256"),
    ({"materials": [{"kind": "x", "filename": "y", "sha256": "a" * 64, "size": -1}]}, "materials[0].size"),
    ({"order_no": "JR 2026/../1"}, "order_no"),
    ({"subject": "not an object"}, "subject"),
])
def test_invalid_fields_get_422_with_the_field_named_and_nothing_is_stored(api, app, change, field):
    response = api.post("/orders", order_body(**change))
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid" and field in body["fields"], body
    assert count_orders(app) == 0


def test_a_submission_time_in_the_future_is_refused(api, app):
    future = datetime.now(UTC) + timedelta(days=1)
    response = api.post("/orders", order_body(submitted_at=future))
    assert response.status_code == 422 and "submitted_at" in response.get_json()["fields"]


@pytest.mark.parametrize(("data", "content_type"), [
    ("{not json", "application/json"),
    ("[1, 2]", "application/json"),
    ("order_no=1", "application/x-www-form-urlencoded"),
])
def test_malformed_bodies_get_400(api, token, app, data, content_type):
    response = api.raw.post("/api/v1/orders", data=data, content_type=content_type,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert count_orders(app) == 0


def test_bodies_over_one_mebibyte_get_413(api, token, app):
    big = order_body(**{"subject.address_remark": "x" * (1024 * 1024)})
    response = api.raw.post("/api/v1/orders", json=big, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert count_orders(app) == 0


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer "])
def test_missing_or_wrong_tokens_get_401(app, header):
    client = app.test_client()
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/orders", json=EXAMPLE_BODY, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert count_orders(app) == 0


def test_a_revoked_token_is_refused(app, api, token):
    from console.models import ApiToken
    from console.services.tokens import revoke_token

    with app.app_context():
        revoke_token(db.session.scalar(select(ApiToken.id)))
    assert api.get("/orders/nope").status_code == 401


def test_unknown_order_is_404(api):
    response = api.get("/orders/JR-NOPE")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("action", ["abandon", "revoke"])
def test_applicant_may_terminate_before_initial_approval(api, action):
    api.post("/orders", EXAMPLE_BODY)
    response = api.post(f"/orders/JR2026112800001/{action}")
    assert response.status_code == 200
    assert response.get_json()["state"] == ("abandoned" if action == "abandon" else "revoked")
    # a retried call answers the same
    assert api.post(f"/orders/JR2026112800001/{action}").status_code == 200


def _approve(app, order_no: str, **kw):
    from console.domain.workflow import Action
    from console.services import orders
    from console.services.actors import Actor

    with app.app_context():
        order = orders.get_order(order_no)
        orders.decide(order_no, Action.APPROVE, Actor.system("test"), expected_version=order.version, **kw)


def test_termination_is_refused_with_a_reason_after_initial_approval(api, app):
    api.post("/orders", EXAMPLE_BODY)
    _approve(app, "JR2026112800001")
    response = api.post("/orders/JR2026112800001/abandon")
    assert response.status_code == 409
    assert "初审通过后至管局审核结束前" in response.get_json()["message"]
    assert api.get("/orders/JR2026112800001").get_json()["state"] == "sms_verification"


def test_sms_verified_moves_the_order_to_the_bureau_and_is_idempotent(api, app):
    api.post("/orders", EXAMPLE_BODY)
    _approve(app, "JR2026112800001")
    at = datetime.now(SHANGHAI).isoformat()
    response = api.post("/orders/JR2026112800001/sms-verified", {"verified_at": at})
    assert response.status_code == 200 and response.get_json()["state"] == "bureau_review"
    assert api.post("/orders/JR2026112800001/sms-verified", {"verified_at": at}).status_code == 200


@pytest.mark.parametrize("body", [{}, {"verified_at": "soon"}, {"verified_at": "2026-11-28T10:00:00"}])
def test_sms_verified_needs_a_valid_time(api, app, body):
    api.post("/orders", EXAMPLE_BODY)
    _approve(app, "JR2026112800001")
    response = api.post("/orders/JR2026112800001/sms-verified", body)
    assert response.status_code == 422 and "verified_at" in response.get_json()["fields"]


def test_sms_verified_in_the_wrong_state_is_a_conflict(api):
    api.post("/orders", EXAMPLE_BODY)
    response = api.post("/orders/JR2026112800001/sms-verified", {"verified_at": datetime.now(UTC).isoformat()})
    assert response.status_code == 409


def test_resubmission_after_return_goes_back_to_initial_review_with_the_diff(api, app):
    from console.domain.workflow import Action
    from console.services import orders
    from console.services.actors import Actor

    api.post("/orders", EXAMPLE_BODY)
    with app.app_context():
        orders.decide("JR2026112800001", Action.REJECT, Actor.system("test"), expected_version=1,
                      reasons=["info_mismatch"], note="请修改")
    assert api.get("/orders/JR2026112800001").get_json()["result"]["reasons"] == ["info_mismatch"]
    corrected = order_body("JR2026112800001", **{"subject.mailing_address.detail": "文三路90号3楼"})
    response = api.post("/orders/JR2026112800001/resubmit", corrected)
    assert response.status_code == 200 and response.get_json()["state"] == "initial_review"
    with app.app_context():
        event = db.session.scalar(select(OrderEvent).where(OrderEvent.action == "resubmit"))
        assert event.changes == {"subject.mailing_address.detail": ["文三路90号", "文三路90号3楼"]}
        assert db.session.scalar(select(Order.submission_round)) == 2
    # the same resubmission again is a retry, not a conflict
    assert api.post("/orders/JR2026112800001/resubmit", corrected).status_code == 200


def test_resubmission_is_refused_while_in_initial_review(api):
    api.post("/orders", EXAMPLE_BODY)
    changed = order_body("JR2026112800001", **{"website.name": "新的网站名称"})
    response = api.post("/orders/JR2026112800001/resubmit", changed)
    assert response.status_code == 409


def test_resubmission_body_must_name_the_same_order(api):
    api.post("/orders", EXAMPLE_BODY)
    response = api.post("/orders/JR2026112800001/resubmit", order_body("JR-OTHER"))
    assert response.status_code == 422 and "order_no" in response.get_json()["fields"]


def test_progress_includes_findings_with_the_contract_shape(api):
    body = order_body(**{"subject.mailing_address.province": "江苏", "subject.mailing_address.detail": "中山北路"})
    api.post("/orders", body)
    data = api.get(f"/orders/{body['order_no']}").get_json()
    checks = {(f["check"], f["severity"], f["field"]) for f in data["findings"]}
    assert ("same_province", "error", "subject.mailing_address.province") in checks
    assert ("house_number", "error", "subject.mailing_address.detail") in checks
    assert all(set(f) == {"check", "severity", "field", "message"} for f in data["findings"])
