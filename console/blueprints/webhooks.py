"""Admin: the portal's webhook endpoints, their secrets, delivery status, dead letters and replay."""

from __future__ import annotations

from flask import Blueprint, abort, session, url_for
from flask_login import current_user

from console.auth import requires
from console.domain.applicant_texts import EVENT_LABELS
from console.forms.auth import EmptyForm
from console.forms.webhooks import WebhookForm
from console.responses import go, respond
from console.services import webhooks
from console.services.errors import ServiceError

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


def _page(status: int = 200, form: WebhookForm | None = None, **extra):
    return respond("admin/webhooks.html", status=status, form=form or WebhookForm(formdata=None),
                   event_labels=EVENT_LABELS, **webhooks.overview(), **extra)


def _home(message: str, category: str = "success"):
    return go(url_for("webhooks.index"), message, category)


@bp.get("")
@requires("manage_users")
def index():
    """Endpoints with backlog and dead letters, recent attempts; a new secret is shown once."""
    return _page(new_secret=session.pop("new_webhook_secret", None))


@bp.post("")
@requires("manage_users")
def create():
    """Register an endpoint; its secret is shown once on the page redirected to."""
    form = WebhookForm()
    if not form.validate_on_submit():
        return _page(422, form)
    try:
        endpoint, secret = webhooks.create_endpoint(form.url.data, form.event_types.data or [],
                                                    actor_id=current_user.id)
    except ServiceError as exc:
        return _home(exc.message, "error")
    session["new_webhook_secret"] = {"id": endpoint.id, "secret": secret}
    return _home(f"已添加接收地址 #{endpoint.id}")


def _act(fn, message: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        result = fn()
    except ServiceError as exc:
        return _home(exc.message, "error")
    return _home(message.format(result=result))


@bp.post("/<id:endpoint_id>/rotate")
@requires("manage_users")
def rotate(endpoint_id: int):
    """A new secret (shown once); the old one keeps signing for 24 hours."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        secret = webhooks.rotate_secret(endpoint_id, actor_id=current_user.id)
    except ServiceError as exc:
        return _home(exc.message, "error")
    session["new_webhook_secret"] = {"id": endpoint_id, "secret": secret}
    return _home(f"接收地址 #{endpoint_id} 已换新密钥；旧密钥在 {webhooks.ROTATION_HOURS} 小时内仍同时签名")


@bp.post("/<id:endpoint_id>/disable")
@requires("manage_users")
def disable(endpoint_id: int):
    return _act(lambda: webhooks.set_active(endpoint_id, False, actor_id=current_user.id),
                f"接收地址 #{endpoint_id} 已停用；事件会保留，启用后继续投递")


@bp.post("/<id:endpoint_id>/enable")
@requires("manage_users")
def enable(endpoint_id: int):
    return _act(lambda: webhooks.set_active(endpoint_id, True, actor_id=current_user.id),
                f"接收地址 #{endpoint_id} 已启用")


@bp.post("/<id:endpoint_id>/replay")
@requires("manage_users")
def replay_all(endpoint_id: int):
    """Every dead letter of the endpoint back to the queue."""
    return _act(lambda: webhooks.replay(endpoint_id, actor_id=current_user.id), "已重新排队 {result} 个事件")


@bp.post("/<id:endpoint_id>/replay/<id:delivery_id>")
@requires("manage_users")
def replay_one(endpoint_id: int, delivery_id: int):
    return _act(lambda: webhooks.replay(endpoint_id, delivery_id, actor_id=current_user.id),
                "已重新排队 {result} 个事件")
