"""Admin: users, roles, sessions and the applicant portal's API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, session, url_for
from flask_login import current_user

from console.auth import requires
from console.forms import add_errors
from console.forms.admin import CreateUserForm, EmailForm, ResetPasswordForm, RoleForm, TokenForm
from console.forms.auth import EmptyForm
from console.responses import go, respond
from console.services import accounts
from console.services.errors import ServiceError
from console.services.tokens import create_token, revoke_token

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(status: int = 200, **forms):
    context = {**accounts.admin_overview(), "create_form": CreateUserForm(formdata=None),
               "token_form": TokenForm(formdata=None), "role_form": RoleForm(formdata=None),
               "reset_form": ResetPasswordForm(formdata=None), "new_token": None}
    context.update(forms)
    return respond("admin/users.html", "admin/_users.html", status=status, **context)


def _home(message: str | None = None, category: str = "success", anchor: str | None = None):
    return go(url_for("admin.users", _anchor=anchor), message, category)


@bp.get("/users")
@requires("manage_users")
def users():
    """Users and tokens (a token just created is shown here once)."""
    return _page(new_token=session.pop("new_api_token", None))


@bp.post("/users")
@requires("manage_users")
def create_user():
    """Create a user with an initial password."""
    form = CreateUserForm()
    if not form.validate_on_submit():
        return _page(422, create_form=form)
    try:
        accounts.create_user(form.username.data, form.password.data, form.role.data,
                             display_name=form.display_name.data, email=form.email.data or "",
                             actor_id=current_user.id)
    except ServiceError as exc:
        add_errors(form, exc.fields)
        return _page(exc.status if exc.status != 409 else 422, create_form=form)
    return _home(f"已创建用户 {form.username.data}")


def _act(form, fn, message: str, refused: str = "提交的内容无效"):
    """Run ``fn`` when ``form`` validates; the outcome is said on the admin page."""
    if not form.validate_on_submit():
        errors = [m for name, ms in form.errors.items() if name != "csrf_token" for m in ms]
        if not errors and form.csrf_token.errors:
            abort(400)
        return _home("；".join(errors) or refused, "error")
    try:
        fn()
    except ServiceError as exc:
        return _home(exc.message, "error")
    return _home(message)


@bp.post("/users/<id:user_id>/role")
@requires("manage_users")
def change_role(user_id: int):
    """Change a user's role (their sessions end)."""
    form = RoleForm()
    return _act(form, lambda: accounts.change_role(user_id, form.role.data, actor_id=current_user.id), "角色已修改",
                "角色无效")


@bp.post("/users/<id:user_id>/deactivate")
@requires("manage_users")
def deactivate(user_id: int):
    """Deactivate a user: their open sessions end at once."""
    return _act(EmptyForm(), lambda: accounts.set_active(user_id, False, actor_id=current_user.id), "已停用")


@bp.post("/users/<id:user_id>/activate")
@requires("manage_users")
def activate(user_id: int):
    """Re-activate a user."""
    return _act(EmptyForm(), lambda: accounts.set_active(user_id, True, actor_id=current_user.id), "已启用")


@bp.post("/users/<id:user_id>/password")
@requires("manage_users")
def reset_password(user_id: int):
    """Set a new password (the user's sessions end)."""
    form = ResetPasswordForm()
    return _act(form, lambda: accounts.reset_password(user_id, form.password.data, actor_id=current_user.id),
                "密码已重置", "密码无效")


@bp.post("/users/<id:user_id>/email")
@requires("manage_users")
def set_email(user_id: int):
    """Set or clear where a user's alert e-mail goes."""
    form = EmailForm()
    return _act(form, lambda: accounts.set_email(user_id, form.email.data or "", actor_id=current_user.id),
                "电子邮箱已保存")


@bp.post("/users/<id:user_id>/sign-out")
@requires("manage_users")
def sign_out_everywhere(user_id: int):
    """End every session of the user."""
    return _act(EmptyForm(), lambda: accounts.sign_out_everywhere(user_id, actor_id=current_user.id),
                "该用户已在所有设备上退出")


@bp.post("/tokens")
@requires("manage_users")
def create_api_token():
    """Create an API token, then show it once on the page redirected to (a reload makes no other)."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(422, token_form=form)
    _, plain = create_token(form.name.data, actor_id=current_user.id)
    session["new_api_token"] = plain  # popped by the next page view
    return _home("令牌已创建", anchor="tokens")


@bp.post("/tokens/<id:token_id>/revoke")
@requires("manage_users")
def revoke_api_token(token_id: int):
    """Revoke an API token."""
    return _act(EmptyForm(), lambda: revoke_token(token_id, actor_id=current_user.id), "令牌已吊销")
