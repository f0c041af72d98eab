"""Fixtures: a migrated database (SQLite by default, PostgreSQL when CONSOLE_TEST_DATABASE_URL is
set), a fresh app per test with CSRF on, clients that sign in the real way."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from console import create_app
from console.extensions import db
from console.services import accounts
from console.services.actors import Actor
from console.services.tokens import create_token

PASSWORD = "correct horse battery staple 42"

pytest_plugins = ["tests.browser"]  # the live server and Chromium fixtures


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("CONSOLE_TEST_DATABASE_URL")
    if not url:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
    app = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return url


def _clean(app) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(text(f"DELETE FROM {table}"))
            # deleting orders made its triggers write counter deltas (models.WorkCountDelta)
            db.session.execute(text("DELETE FROM work_count_deltas"))
        db.session.commit()


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({"MODE": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret",
                      "WTF_CSRF_ENABLED": True, "SERVER_NAME": "localhost"})
    app.instance_path = str(tmp_path)
    _clean(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def make_user(app, username: str, role: str = "specialist", display_name: str | None = None):
    with app.app_context():
        user = accounts.create_user(username, PASSWORD, role, display_name=display_name or username)
        return user.id


@pytest.fixture
def users(app) -> dict[str, int]:
    return {
        "alice": make_user(app, "alice", "specialist", "审核员甲"),
        "bob": make_user(app, "bob", "specialist", "审核员乙"),
        "carol": make_user(app, "carol", "supervisor", "主管丙"),
        "dave": make_user(app, "dave", "admin", "管理员丁"),
    }


@pytest.fixture
def token(app) -> str:
    with app.app_context():
        _, plain = create_token("portal-test")
    return plain


@pytest.fixture
def api(app, token):
    """A client for the portal API: api.post(path, json) with the bearer token."""
    client = app.test_client()

    class Api:
        def post(self, path, body=None, **kw):
            return client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"}, **kw)

        def get(self, path):
            return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})

        raw = client

    Api.token = token
    return Api()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Browser:
    """A test client that signs in through /login and sends CSRF tokens like a browser."""

    def __init__(self, app, username: str | None = None):
        self.client = app.test_client()
        self.csrf = None
        if username:
            self.login(username)

    def login(self, username: str, password: str = PASSWORD, next_: str | None = None):
        page = self.client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        data = {"username": username, "password": password, "csrf_token": token}
        if next_ is not None:
            data["next"] = next_
        response = self.client.post("/login", data=data)
        if response.status_code == 302:
            self.refresh_csrf()
        return response

    def refresh_csrf(self):
        page = self.client.get("/queues/initial-review")
        self.csrf = csrf_from(page.get_data(as_text=True))

    def get(self, path, htmx: bool = False, **kw):
        headers = kw.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.get(path, headers=headers, **kw)

    def post(self, path, data=None, htmx: bool = False, csrf: bool = True, **kw):
        data = dict(data or {})
        headers = kw.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
            if csrf:
                headers["X-CSRFToken"] = self.csrf
        elif csrf:
            data.setdefault("csrf_token", self.csrf)
        return self.client.post(path, data=data, headers=headers, **kw)


def actor(app, user_id: int) -> Actor:
    from console.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        return Actor.for_user(user)


def utc(text_: str) -> datetime:
    """'2026-09-30 15:00' in Asia/Shanghai as an aware UTC datetime."""
    from console.domain.calendar import SHANGHAI

    return datetime.fromisoformat(text_).replace(tzinfo=SHANGHAI).astimezone(UTC)
