"""Who may do what: role × action × own or someone else's order."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import CallAttempt, OrderEvent, OrderNote
from console.services import orders
from console.services.actors import Actor
from tests.conftest import Browser, actor
from tests.factories import order_body

ALLOW, DENY = "allow", "deny"


def prepared(app, users, owner: str) -> tuple[str, int]:
    with app.app_context():
        order, _ = orders.submit(order_body(), Actor.portal("test"))
        claimed = orders.claim(order.order_no, actor(app, users[owner]))
        return order.order_no, claimed.version


def approve(b, no, v):
    return b.post(f"/orders/{no}/approve", {"version": v})


def reject(b, no, v):
    return b.post(f"/orders/{no}/reject", {"version": v, "reasons": ["other"], "note": "x"})


def correct(b, no, v):
    return b.post(f"/orders/{no}/edit/website", {"version": v, "website__name": "新的网站名称", "website__domains": "yunzhan.cn",
                                                 "website__filing_number": "", "website__previous_provider": ""})


def call(b, no, v):
    return b.post(f"/orders/{no}/calls", {"number": "13800138000", "reached": "1"})


def note(b, no, v):
    return b.post(f"/orders/{no}/notes", {"text": "申请人来电，说明材料已补"})


def unclaim(b, no, v):
    return b.post(f"/orders/{no}/unclaim", {"version": v})


def snapshot(app, no) -> dict:
    """What an action could have changed: the row, and how much history, calls and notes it has."""
    with app.app_context():
        order = orders.get_order(no)
        count = lambda model: db.session.scalar(select(func.count()).select_from(model)  # noqa: E731
                                                .where(model.order_id == order.id))
        return {"version": order.version, "state": order.state, "assignee": order.assignee_id,
                "website": order.website_name, "events": count(OrderEvent), "calls": count(CallAttempt),
                "notes": count(OrderNote)}


#: What each action visibly did when it was allowed (compared with the snapshot before).
EFFECTS = {
    "approve": lambda before, after: after["state"] != "initial_review" and after["version"] > before["version"],
    "reject": lambda before, after: after["state"] == "returned",
    "correct": lambda before, after: after["website"] == "新的网站名称" and after["events"] == before["events"] + 1,
    "call": lambda before, after: after["calls"] == 1 and after["events"] == before["events"] + 1,
    "note": lambda before, after: after["notes"] == 1,
    "unclaim": lambda before, after: after["assignee"] is None and after["version"] == before["version"] + 1,
}
ACTIONS = {"approve": approve, "reject": reject, "correct": correct, "call": call, "note": note, "unclaim": unclaim}

#: (role of the signed-in user, whose order) -> allowed?
MATRIX = {
    ("alice", "own"): ALLOW,  # a specialist on their own order
    ("alice", "other"): DENY,  # a specialist on another specialist's order, by its URL
    ("carol", "other"): ALLOW,  # a supervisor on anyone's order
    ("dave", "other"): ALLOW,  # an admin acts as a supervisor would
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize(("who", "whose"), list(MATRIX))
def test_permission_matrix(app, users, who, whose, action):
    owner = who if whose == "own" else "bob"
    no, version = prepared(app, users, owner)
    before = snapshot(app, no)
    response = ACTIONS[action](Browser(app, who), no, version)
    after = snapshot(app, no)
    if MATRIX[(who, whose)] == ALLOW:
        assert response.status_code in (200, 302), (who, whose, action, response.status_code)
        assert EFFECTS[action](before, after), (who, whose, action, before, after)
    else:
        assert response.status_code == 403, (who, whose, action, response.status_code)
        assert "此订单未分配给您" in response.get_data(as_text=True)
        assert after == before


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("carol", 403), ("dave", 200)])
def test_only_admins_manage_users_and_tokens(app, users, who, status):
    browser = Browser(app, who)
    assert browser.get("/admin/users").status_code == status
    assert browser.get("/admin/users", htmx=True).status_code == status
    created = browser.post("/admin/tokens", {"name": "x"})
    assert created.status_code == (302 if status == 200 else 403)


def test_a_refused_action_is_audited(app, users):
    from sqlalchemy import select

    from console.extensions import db
    from console.models import AuditEntry

    Browser(app, "alice").get("/admin/users")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "authz.refused"))
        assert entry.actor_id == users["alice"] and entry.target == "GET /admin/users"


def test_an_admin_creates_a_user_with_a_policy_checked_password(app, users):
    admin = Browser(app, "dave")
    weak = admin.post("/admin/users", {"username": "erin", "display_name": "E", "role": "specialist",
                                       "password": "password1234"})
    assert weak.status_code == 422 and "太常见" in weak.get_data(as_text=True)
    ok = admin.post("/admin/users", {"username": "erin", "display_name": "E", "role": "specialist",
                                     "password": "a perfectly long passphrase"})
    assert ok.status_code == 302
    assert Browser(app).login("erin", "a perfectly long passphrase").status_code == 302


def test_a_role_change_ends_the_users_sessions(app, users):
    bob = Browser(app, "bob")
    Browser(app, "dave").post(f"/admin/users/{users['bob']}/role", {"role": "supervisor"})
    assert bob.get("/queues/initial-review").status_code == 302


def test_an_admin_sets_a_users_alert_email_and_a_bad_one_is_refused(app, users):
    admin = Browser(app, "dave")
    bad = admin.post("/admin/users", {"username": "gina", "display_name": "G", "role": "specialist",
                                      "email": "not-an-address", "password": "a perfectly long passphrase"})
    assert bad.status_code == 422 and "电子邮箱无效" in bad.get_data(as_text=True)
    ok = admin.post("/admin/users", {"username": "gina", "display_name": "G", "role": "specialist",
                                     "email": "gina@example.com", "password": "a perfectly long passphrase"})
    assert ok.status_code == 302
    from sqlalchemy import select

    from console.extensions import db
    from console.models import User

    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.username == "gina")) == "gina@example.com"


def test_an_admin_changes_a_users_alert_email(app, users):
    from sqlalchemy import select

    from console.extensions import db
    from console.models import User

    admin = Browser(app, "dave")
    admin.post(f"/admin/users/{users['bob']}/email", {"email": "bob@example.com"})
    refused = admin.post(f"/admin/users/{users['bob']}/email", {"email": "nope"})
    assert refused.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.id == users["bob"])) == "bob@example.com"
    assert Browser(app, "carol").post(f"/admin/users/{users['bob']}/email", {"email": "x@y.cn"}).status_code == 403


def test_a_new_token_is_shown_once_and_a_reload_creates_no_other(app, users):
    from sqlalchemy import func, select

    from console.extensions import db
    from console.models import ApiToken

    admin = Browser(app, "dave")
    created = admin.post("/admin/tokens", {"name": "portal-prod"})
    assert created.status_code == 302 and created.headers["Location"].endswith("/admin/users#tokens")
    shown = admin.get("/admin/users").get_data(as_text=True)
    assert 'id="new-token"' in shown and "icp_" in shown
    again = admin.get("/admin/users").get_data(as_text=True)  # the reload
    assert 'id="new-token"' not in again
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id))) == 1
