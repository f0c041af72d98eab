"""Sessions that really end, default-deny sign-in, and the security headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Flask, current_app, request, session
from flask_login import current_user, logout_user
from sqlalchemy import select

from console.errors import respond_unauthorized
from console.extensions import db, login_manager
from console.models import User
from console.services.settings import get_setting

log = logging.getLogger(__name__)

#: No inline scripts or styles anywhere: htmx and our own script are served from /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    app.before_request(enforce_session)
    app.after_request(security_headers)


def load_user(user_id: str) -> User | None:
    """The session carries ``<id>:<session_version>``; a bumped version ends old sessions."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = db.session.scalar(select(User).where(User.id == uid))
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def unauthorized():
    return respond_unauthorized()


def enforce_session():
    """Every non-public endpoint requires a live session within its idle and absolute limits."""
    view = current_app.view_functions.get(request.endpoint or "")
    if request.endpoint is None or request.endpoint == "static" or getattr(view, "is_public", False):
        return None
    if request.blueprint == "api":
        return None  # bearer tokens, checked by the API blueprint
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    now = datetime.now(UTC).timestamp()
    idle = get_setting("session_idle_minutes") * 60
    lifetime = get_setting("session_max_hours") * 3600
    started, seen = session.get("started", now), session.get("seen", now)
    if now - seen > idle or now - started > lifetime:
        logout_user()
        session.clear()
        return login_manager.unauthorized()
    # Polling requests (badges, collision checks) must not keep an idle session alive.
    if request.headers.get("X-Console-Poll") != "1":
        session["seen"] = now
    return None


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["MODE"] == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.blueprint != "api" and request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
