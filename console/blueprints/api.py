"""The applicant portal's JSON API (DESIGN.md, "The portal API": a contract)."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from console.domain.calendar import utcnow
from console.domain.order_body import parse_moment
from console.domain.text import CONTROL_MESSAGE, MAX_JSON_DEPTH, first_control_path
from console.domain.workflow import Action
from console.errors import error_response
from console.openapi import document as openapi_document
from console.services import orders as order_service
from console.services import outbox
from console.services.actors import Actor
from console.services.errors import Invalid, ServiceError
from console.services.progress import order_progress
from console.services.tokens import authenticate

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        token = authenticate(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            return error_response(401, "缺少或无效的 API 令牌（Authorization: Bearer <token>）",
                                  headers={"WWW-Authenticate": 'Bearer realm="icp-console"'})
        g.api_actor = Actor.portal(token.name)
        return view(*args, **kwargs)

    return wrapped


def json_body() -> dict:
    """The request's JSON object; 400 for malformed or too deeply nested JSON, 413 past the size
    limit, 422 for a control character in any string (with its path)."""
    try:
        data = request.get_json(force=False, silent=False)
    except RequestEntityTooLarge:
        raise
    except BadRequest:
        raise ServiceError("请求体不是有效的 JSON") from None
    except RecursionError:
        raise ServiceError(f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）") from None
    if data is None:
        raise ServiceError("请求体必须是 JSON（Content-Type: application/json）")
    if not isinstance(data, dict):
        raise ServiceError("请求体必须是 JSON 对象")
    problem = first_control_path(data)
    if problem is not None:
        path, message = problem
        if message == CONTROL_MESSAGE:
            raise Invalid("字段无效", fields={path: [message]})
        raise ServiceError(f"JSON 嵌套过深：{message}")
    return data


@bp.get("/openapi.json")
def openapi_json():
    """This API as an OpenAPI 3.1 document (no token needed to read it)."""
    return jsonify(openapi_document())


@bp.post("/orders")
@token_required
def create_order():
    """A submitted order enters 初审; idempotent on order_no."""
    order, created = order_service.submit(json_body(), g.api_actor)
    return progress(order), 201 if created else 200


@bp.post("/orders/<order_no:order_no>/resubmit")
@token_required
def resubmit_order(order_no: str):
    """A corrected order after 退回 or 管局驳回."""
    order = order_service.resubmit(order_no, json_body(), g.api_actor)
    return progress(order)


@bp.post("/orders/<order_no:order_no>/abandon")
@token_required
def abandon_order(order_no: str):
    """The applicant abandons (放弃备案)."""
    return progress(order_service.terminate(order_no, Action.ABANDON, g.api_actor))


@bp.post("/orders/<order_no:order_no>/revoke")
@token_required
def revoke_order(order_no: str):
    """The applicant withdraws (撤销备案)."""
    return progress(order_service.terminate(order_no, Action.REVOKE, g.api_actor))


@bp.post("/orders/<order_no:order_no>/sms-verified")
@token_required
def sms_verified(order_no: str):
    """The MIIT SMS verification was completed by the applicant."""
    verified_at = parse_moment(json_body().get("verified_at"))
    if isinstance(verified_at, str):
        raise Invalid("字段无效", fields={"verified_at": [verified_at]})
    if verified_at > utcnow():
        raise Invalid("字段无效", fields={"verified_at": ["核验时间不能晚于当前时间"]})
    return progress(order_service.sms_verified(order_no, verified_at, g.api_actor))


@bp.get("/orders/<order_no:order_no>")
@token_required
def get_order(order_no: str):
    """Progress: state, stage, due date, history, result and current findings."""
    return progress(order_service.get_order(order_no))


def progress(order):
    return jsonify(order_progress(order))


@bp.get("/events")
@token_required
def events():
    """The event feed, oldest first: ``after`` is the ``next`` of the previous answer (0 or absent
    to start), ``limit`` 1–1000 (default 100). The same events the webhooks carry."""
    after = _whole_number("after", 0, MAX_CURSOR)
    limit = _whole_number("limit", outbox.FEED_LIMIT, outbox.FEED_MAX, minimum=1)
    items, cursor = outbox.feed(after, limit)
    return jsonify({"events": items, "next": cursor})


#: The feed's cursor is an event id (a 64-bit integer on PostgreSQL).
MAX_CURSOR = 2**63 - 1


def _whole_number(name: str, default: int, maximum: int, *, minimum: int = 0) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not minimum <= int(raw) <= maximum:
        raise Invalid("参数无效", fields={name: [f"须为 {minimum}–{maximum} 的整数"]})
    return int(raw)
