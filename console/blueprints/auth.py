"""Sign in and out."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from console.auth import public
from console.forms.auth import AfterDecisionForm, EmptyForm, LoginForm
from console.responses import go, partial, respond, wants_fragment
from console.safe_redirect import safe_next
from console.services import accounts

bp = Blueprint("auth", __name__)


def _home() -> str:
    return url_for("queues.initial_review")


@bp.get("/")
def home():
    """The console's front door: the 初审 queue."""
    return redirect(_home())


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """The sign-in page; one message for unknown user and wrong password."""
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next"), _home()))
        form.next.data = request.args.get("next", "")
    status, message = 200, None
    if form.validate_on_submit():
        try:
            user = accounts.sign_in(form.username.data, form.password.data, request.remote_addr or "")
        except accounts.Throttled as exc:
            status, message = 429, exc.message
            headers = {"Retry-After": str(exc.retry_after)}
            return respond("auth/login.html", "auth/_login_form.html", status=status, headers=headers,
                          form=form, message=message)
        except accounts.BadCredentials as exc:
            status, message = 200, exc.message
        else:
            session.clear()  # a new session at sign-in
            login_user(user)
            now = datetime.now(UTC).timestamp()
            session["started"] = session["seen"] = now
            return redirect(safe_next(form.next.data, _home()))
    elif request.method == "POST":
        status = 422
    return respond("auth/login.html", "auth/_login_form.html", status=status, form=form, message=message)


@bp.post("/session/keepalive")
def keepalive():
    """保持登录: a request that is not a poll, so the session's idle clock starts again (204)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return "", 204


@bp.post("/account/after-decision")
def after_decision():
    """The user's choice of where a decision leads (the workspace's 决定后 menu)."""
    form = AfterDecisionForm()
    if not form.validate_on_submit():
        message, status = "未保存：" + "；".join(m for ms in form.errors.values() for m in ms), 422
    else:
        accounts.set_after_decision(current_user.id, form.after_decision.data)
        message, status = "已保存", 200
    if wants_fragment():
        return partial("orders/_after_decision.html", status=status, message=message,
                       choice=form.after_decision.data if status == 200 else current_user.after_decision)
    return go(safe_next(request.referrer, _home()), message, "success" if status == 200 else "error")


@bp.post("/logout")
def logout():
    """Sign out: ends this and every other session of the user."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    accounts.sign_out(current_user, request.remote_addr or "")
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
