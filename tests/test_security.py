"""Sign-in, sessions, throttling, CSRF, headers, and the whole URL map behind the login."""

from __future__ import annotations

import re
import secrets
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from console import create_app
from console.extensions import db
from console.models import AuditEntry, User
from console.safe_redirect import safe_next
from console.services import accounts
from tests.conftest import PASSWORD, Browser

PUBLIC = {"auth.login", "health.healthz", "health.readyz", "metrics", "static"}


def concrete(rule) -> str:
    """A URL for the rule: '1' for id converters, 'x' for the others."""
    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", lambda m: "1" if m.group(1) in ("int", "id") else "x", rule.rule)


def test_every_endpoint_requires_sign_in_except_login_health_static_and_the_api(app):
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.endpoint.startswith("api."):
            continue
        path = concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            page = client.open(path, method=method)
            htmx = client.open(path, method=method, headers={"HX-Request": "true"})
            if method == "GET":
                assert page.status_code == 302 and "/login" in page.headers["Location"], (method, path)
            else:  # an anonymous POST without a token: refused before anything else
                assert page.status_code in (302, 400), (method, path, page.status_code)
            assert htmx.status_code in (401, 400), (method, path, htmx.status_code)
            if htmx.status_code == 401:
                assert htmx.headers.get("HX-Redirect", "").startswith("/login")
            checked += 1
    assert checked >= 10


def test_every_post_without_a_csrf_token_is_refused_with_400_even_when_signed_in(app, users):
    browser = Browser(app, "carol")
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint.startswith("api."):
            continue
        path = concrete(rule)
        for htmx in (False, True):
            response = browser.post(path, {}, htmx=htmx, csrf=False)
            assert response.status_code == 400, (path, htmx, response.status_code)
            assert "安全校验失败" in response.get_data(as_text=True)
            assert "Traceback" not in response.get_data(as_text=True)


def test_the_api_is_token_protected_not_session_protected(app):
    client = app.test_client()
    assert client.get("/api/v1/orders/x").status_code == 401
    assert client.post("/api/v1/orders", json={}).status_code == 401


def test_healthz_answers_json_without_sign_in(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] is True


@pytest.mark.parametrize("target", [
    "//evil.example", "/\\evil.example", "http://evil.example/", "https://evil.example",
    "javascript:alert(1)", "\\\\evil.example", "/\r\nSet-Cookie:x", "evil.example", "/\tevil",
    "///evil.example", "", None,
])
def test_open_redirects_are_refused(target):
    assert safe_next(target, "/home") == "/home"


def test_a_harmless_next_is_kept_through_sign_in(app, users):
    browser = Browser(app)
    response = browser.login("alice", next_="/queues/mailing?province=浙江")
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == "/queues/mailing?province=浙江"


def test_an_evil_next_is_dropped_at_sign_in(app, users):
    response = Browser(app).login("alice", next_="//evil.example/x")
    assert response.headers["Location"] == "/queues/initial-review"


def test_one_message_for_unknown_user_and_wrong_password(app, users):
    unknown = Browser(app).login("nobody", "whatever-password-123")
    wrong = Browser(app).login("alice", "not-the-password-123")
    assert unknown.status_code == wrong.status_code == 200
    assert "用户名或密码错误" in unknown.get_data(as_text=True)
    assert "用户名或密码错误" in wrong.get_data(as_text=True)


def test_the_session_from_before_a_logout_no_longer_works(app, users):
    browser = Browser(app, "alice")
    stolen = browser.client.get_cookie("session").value
    assert browser.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/queues/initial-review")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_deactivated_users_open_session_is_refused_at_once(app, users):
    browser = Browser(app, "alice")
    assert browser.get("/queues/initial-review").status_code == 200
    with app.app_context():
        accounts.set_active(users["alice"], False, actor_id=users["dave"])
    response = browser.get("/queues/initial-review")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert browser.get("/queues/counts", htmx=True).status_code == 401


def test_sign_out_everywhere_ends_every_session(app, users):
    one, two = Browser(app, "bob"), Browser(app, "bob")
    with app.app_context():
        accounts.sign_out_everywhere(users["bob"], actor_id=users["dave"])
    assert one.get("/queues/initial-review").status_code == 302
    assert two.get("/queues/initial-review").status_code == 302


def test_idle_sessions_expire(app, users):
    browser = Browser(app, "alice")
    with browser.client.session_transaction() as session:
        session["seen"] -= 31 * 60
    response = browser.get("/queues/initial-review")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sessions_have_an_absolute_lifetime(app, users):
    browser = Browser(app, "alice")
    with browser.client.session_transaction() as session:
        session["started"] -= 13 * 3600
    assert browser.get("/queues/initial-review").status_code == 302


def test_polling_does_not_keep_an_idle_session_alive(app, users):
    browser = Browser(app, "alice")
    with browser.client.session_transaction() as session:
        session["seen"] -= 20 * 60
        before = session["seen"]
    browser.get("/queues/counts", htmx=True, headers={"X-Console-Poll": "1"})
    with browser.client.session_transaction() as session:
        assert session["seen"] == before


def test_cookies_are_httponly_and_samesite_lax(app, users):
    response = Browser(app).login("alice")
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(database_url, monkeypatch):
    monkeypatch.setenv("CONSOLE_SECRET_KEY", secrets.token_urlsafe(48))
    prod = create_app({"MODE": "production", "SQLALCHEMY_DATABASE_URI": database_url})
    assert prod.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_a_secret(database_url, monkeypatch):
    from console.config import ConfigError

    monkeypatch.delenv("CONSOLE_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="CONSOLE_SECRET_KEY"):
        create_app({"MODE": "production", "SQLALCHEMY_DATABASE_URI": database_url})


@pytest.mark.parametrize("weak", [" ", "x", "dev", "changeme", "CHANGEME", "x" * 40, "short-but-random-9f3a",
                                  "abababababababababababababababab"])
def test_production_refuses_a_weak_secret_key_in_one_line(database_url, monkeypatch, weak):
    from console.config import ConfigError

    monkeypatch.setenv("CONSOLE_SECRET_KEY", weak)
    with pytest.raises(ConfigError) as caught:
        create_app({"MODE": "production", "SQLALCHEMY_DATABASE_URI": database_url})
    message = str(caught.value)
    assert "\n" not in message and "secrets.token_urlsafe" in message


def test_production_takes_a_generated_secret_key(database_url, monkeypatch):
    monkeypatch.setenv("CONSOLE_SECRET_KEY", secrets.token_hex(16))
    assert create_app({"MODE": "production", "SQLALCHEMY_DATABASE_URI": database_url}).config["SECRET_KEY"]


def test_security_headers(app, users):
    response = Browser(app, "alice").get("/queues/initial-review")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]


def test_pages_contain_no_inline_scripts(app, users):
    html = Browser(app, "alice").get("/queues/initial-review").get_data(as_text=True)
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag
    assert " style=" not in html and "onclick" not in html


def _fail(app, username: str, address: str, times: int):
    for _ in range(times):
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}), pytest.raises(accounts.BadCredentials):
            accounts.sign_in(username, "wrong password here", address)


def test_repeated_failures_are_refused_for_a_while_with_429(app, users):
    browser = Browser(app)
    for _ in range(accounts.LIMIT_ACCOUNT_ADDRESS):
        assert browser.login("alice", "wrong password here").status_code == 200
    refused = browser.login("alice", PASSWORD)  # even the right password waits
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0


def test_throttling_holds_across_two_app_instances_sharing_one_database(app, database_url, users):
    other = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "other",
                        "WTF_CSRF_ENABLED": True})
    first, second = Browser(app), Browser(other)
    for i in range(accounts.LIMIT_ACCOUNT_ADDRESS):
        (first if i % 2 else second).login("bob", "wrong password here")
    assert first.login("bob", PASSWORD).status_code == 429
    assert second.login("bob", PASSWORD).status_code == 429
    with other.app_context():
        db.engine.dispose()


def test_an_attacker_elsewhere_does_not_lock_the_user_out_from_their_own_address(app, users):
    with app.app_context():
        _fail(app, "alice", "203.0.113.9", accounts.LIMIT_ACCOUNT_ADDRESS)
        with pytest.raises(accounts.Throttled):
            accounts.sign_in("alice", PASSWORD, "203.0.113.9")
        user = accounts.sign_in("alice", PASSWORD, "198.51.100.7")
        assert user.username == "alice"


def test_sign_ins_and_failures_are_audited_with_the_address(app, users):
    Browser(app).login("alice", "wrong password here")
    Browser(app).login("alice")
    with app.app_context():
        actions = [a for (a,) in db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id))]
        assert "login.failed" in actions and "login.succeeded" in actions
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.failed"))
        assert entry.address == "127.0.0.1"


def test_passwords_are_hashed_with_scrypt(app, users):
    with app.app_context():
        assert db.session.scalar(select(User.password_hash).where(User.username == "alice")).startswith("scrypt:")


@pytest.mark.parametrize(("password", "problem"), [
    ("short", "至少 12"), ("x" * 129, "最多 128"), ("password1234", "太常见"), ("aaaaaaaaaaaaaa", "太常见"),
    ("alice-is-my-name", "用户名"),
])
def test_password_policy(app, password, problem):
    from console.services.errors import Invalid

    with app.app_context(), pytest.raises(Invalid) as caught:
        accounts.create_user("alice", password, "specialist")
    assert problem in caught.value.fields["password"][0]


def test_error_pages_are_chinese_and_without_stack_traces(app, users):
    browser = Browser(app, "alice")
    response = browser.get("/orders/NOPE")
    assert response.status_code == 404 and "未找到" in response.get_data(as_text=True)
    fragment = browser.get("/orders/NOPE", htmx=True)
    assert fragment.status_code == 404 and "<html" not in fragment.get_data(as_text=True)
    assert browser.get("/logout").status_code == 405


def _failed_long_ago(app, username: str, address: str, seconds_ago: list[int]) -> None:
    """Failures recorded as if they had happened that many seconds ago (the clock is real)."""
    from datetime import UTC, datetime, timedelta

    from console.database import write_transaction
    from console.models import LoginAttempt

    with app.app_context(), write_transaction():
        now = datetime.now(UTC)
        for ago in seconds_ago:
            db.session.add(LoginAttempt(at=now - timedelta(seconds=ago), username=username, address=address))


def test_failures_from_many_addresses_never_lock_the_owner_out(app, users):
    for i in range(12):  # 60 failures for alice, 5 from each of 12 addresses
        _fail(app, "alice", f"203.0.113.{i + 1}", accounts.LIMIT_ACCOUNT_ADDRESS)
    with app.test_request_context():
        assert accounts.sign_in("alice", PASSWORD, "198.51.100.7").username == "alice"
    with app.app_context():  # the admin too: no account-wide lock exists
        assert accounts.sign_in("dave", PASSWORD, "198.51.100.7").username == "dave"


def test_the_wait_grows_with_each_failure_past_the_limit(app, users):
    _failed_long_ago(app, "bob", "192.0.2.1", [60, 50, 40, 30, 9])  # 5 failures, the last 9 s ago
    with app.app_context():
        assert accounts.sign_in("bob", PASSWORD, "192.0.2.1").username == "bob"  # waited 5 s already
    _failed_long_ago(app, "bob", "192.0.2.2", [60, 50, 40, 30, 20, 9])  # 6 failures: the wait is 10 s
    with app.app_context(), pytest.raises(accounts.Throttled) as caught:
        accounts.sign_in("bob", PASSWORD, "192.0.2.2")
    assert 0 < caught.value.retry_after <= 2


def test_an_address_that_guesses_many_accounts_waits_but_only_that_address(app, users):
    for i in range(accounts.LIMIT_ADDRESS):
        _fail(app, f"nobody{i}", "203.0.113.50", 1)
    with app.app_context():
        with pytest.raises(accounts.Throttled):
            accounts.sign_in("carol", PASSWORD, "203.0.113.50")
        assert accounts.sign_in("carol", PASSWORD, "203.0.113.51").username == "carol"


def test_locks_and_unlocks_are_audited(app, users):
    _failed_long_ago(app, "alice", "192.0.2.9", [60, 50, 40, 30])
    _fail(app, "alice", "192.0.2.9", 1)  # the fifth failure starts a wait
    with app.app_context():
        locked = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.locked"))
        assert locked.address == "192.0.2.9" and locked.detail["pair_failures"] == 5
    from datetime import timedelta

    from console.database import write_transaction
    from console.models import LoginAttempt

    with app.app_context(), write_transaction():  # the first delay has passed: age the failures by 10 s
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.at -= timedelta(seconds=10)
    with app.app_context():
        accounts.sign_in("alice", PASSWORD, "192.0.2.9")
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "login.unlocked")) is not None


@pytest.mark.parametrize(("hops", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.77")])
def test_trusted_proxies_decide_which_address_is_audited(database_url, users, monkeypatch, hops, seen):
    monkeypatch.setenv("CONSOLE_TRUSTED_PROXIES", str(hops))
    proxied = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t",
                          "WTF_CSRF_ENABLED": False})
    client = proxied.test_client()
    client.post("/login", data={"username": "alice", "password": "wrong password here"},
                headers={"X-Forwarded-For": "203.0.113.77"})
    with proxied.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.failed")
                                  .order_by(AuditEntry.id.desc()))
        assert entry.address == seen
        db.engine.dispose()


def test_a_poll_after_the_session_ended_sends_the_page_to_sign_in_and_back(app, users):
    from urllib.parse import parse_qs, urlsplit

    client = app.test_client()  # not signed in: as after an idle timeout
    response = client.get("/alerts/badge", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/orders/JR1?tab=calls", "X-Console-Poll": "1"})
    assert response.status_code == 401
    target = urlsplit(response.headers["HX-Redirect"])
    assert target.path == "/login" and parse_qs(target.query)["next"] == ["/orders/JR1?tab=calls"]
    hostile = client.get("/alerts/badge", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example//x"})
    assert "evil" not in hostile.headers["HX-Redirect"]
