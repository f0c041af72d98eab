"""Error pages, fragments and JSON, in the console's look and in Chinese; never a stack trace."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from console.extensions import db
from console.responses import current_url, is_htmx, respond, unauthorised
from console.safe_redirect import safe_next
from console.services.audit import audit
from console.services.errors import ServiceError

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("请求无效", "请求格式不正确。"),
    401: ("请先登录", "登录已失效，请重新登录。"),
    403: ("无权访问", "您的角色不能执行此操作。"),
    404: ("未找到", "您访问的页面或订单不存在。"),
    405: ("方法不允许", "此地址不支持该请求方法。"),
    409: ("操作冲突", "数据已被他人修改，请刷新后重试。"),
    413: ("内容过大", "提交的内容超过了大小限制。"),
    422: ("内容无效", "提交的内容有误，请检查后重试。"),
    429: ("请求过于频繁", "请稍后再试。"),
    500: ("服务器错误", "服务器出了问题，操作没有生效。已记录，请稍后重试。"),
}


def wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str | None = None, *, code: str | None = None,
                   fields: dict | None = None, headers: dict | None = None):
    """The same error as JSON (API), a fragment (HTMX) or a full page."""
    title, default = MESSAGES.get(status, MESSAGES[400])
    message = message or default
    if wants_json():
        body = {"error": code or title_code(status), "message": message, "fields": fields or {}}
        response = make_response(jsonify(body), status)
    else:
        response = respond("errors/page.html", "errors/_error.html", status=status, headers=headers,
                           error_status=status, title=title, message=message)
        return response
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def title_code(status: int) -> str:
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
            429: "too_many_requests", 500: "server_error"}.get(status, "error")


def respond_unauthorized():
    if wants_json():
        return error_response(401)
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    if is_htmx():  # a fragment or a poll: after signing in, back to the page it was made from
        page = urlsplit(current_url())
        back = safe_next(page.path + (f"?{page.query}" if page.query else ""), "") or None
    login = url_for("auth.login", next=back)
    if is_htmx():
        title, message = MESSAGES[401]
        return unauthorised(render_template("errors/_error.html", error_status=401, title=title, message=message),
                            401, login)
    return redirect(login)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError):
        return error_response(400, "安全校验失败（CSRF 令牌缺失或已过期），请刷新页面后重试。", code="csrf_failed")

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        db.session.rollback()
        if exc.status == 403:
            _audit_refusal()
        return error_response(exc.status, exc.message, code=exc.code, fields=exc.fields)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if status == 403:
            _audit_refusal()
        message = None
        if status == 400 and wants_json() and exc.description:
            message = exc.description
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        return error_response(status if status in MESSAGES else 400, message, headers=headers)

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500)


def _audit_refusal() -> None:
    """Record a refused authorisation (in its own small transaction)."""
    try:
        db.session.rollback()
        audit("authz.refused", actor_id=getattr(current_user, "id", None),
              target=f"{request.method} {request.path}"[:200], address=request.remote_addr or "")
        db.session.commit()
    except Exception:
        log.exception("could not record a refused authorisation")
        db.session.rollback()
