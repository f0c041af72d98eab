"""Admin: users, roles, sessions and the applicant portal's API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from console.auth import requires
from console.extensions import db
from console.forms.admin import CreateUserForm, ResetPasswordForm, RoleForm, TokenForm
from console.forms.auth import EmptyForm
from console.models import ApiToken, AuditEntry, User
from console.services import accounts
from console.services.errors import ServiceError
from console.services.tokens import create_token, revoke_token
from console.templating import render

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(status: int = 200, **forms):
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.role, User.username)).all()
    tokens = db.session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id)).all()
    audit = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(30)).all()
    context = {"users": users, "tokens": tokens, "audit": audit, "create_form": CreateUserForm(formdata=None),
               "token_form": TokenForm(formdata=None), "role_form": RoleForm(formdata=None),
               "reset_form": ResetPasswordForm(formdata=None), "new_token": None}
    context.update(forms)
    return render("admin/users.html", "admin/_users.html", status=status, **context)


@bp.get("/users")
@requires("manage_users")
def users():
    """Users and tokens."""
    return _page()


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
        for name, messages in exc.fields.items():
            if name in form:
                form[name].errors = list(form[name].errors) + messages
        return _page(exc.status if exc.status != 409 else 422, create_form=form)
    flash(f"已创建用户 {form.username.data}", "success")
    return redirect(url_for("admin.users"))


def _act(fn, message: str):
    try:
        fn()
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/role")
@requires("manage_users")
def change_role(user_id: int):
    """Change a user's role (their sessions end)."""
    form = RoleForm()
    if not form.validate_on_submit():
        flash("角色无效", "error")
        return redirect(url_for("admin.users"))
    return _act(lambda: accounts.change_role(user_id, form.role.data, actor_id=current_user.id), "角色已修改")


@bp.post("/users/<int:user_id>/deactivate")
@requires("manage_users")
def deactivate(user_id: int):
    """Deactivate a user: their open sessions end at once."""
    EmptyForm().validate_on_submit()
    return _act(lambda: accounts.set_active(user_id, False, actor_id=current_user.id), "已停用")


@bp.post("/users/<int:user_id>/activate")
@requires("manage_users")
def activate(user_id: int):
    """Re-activate a user."""
    EmptyForm().validate_on_submit()
    return _act(lambda: accounts.set_active(user_id, True, actor_id=current_user.id), "已启用")


@bp.post("/users/<int:user_id>/password")
@requires("manage_users")
def reset_password(user_id: int):
    """Set a new password (the user's sessions end)."""
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        flash("；".join(form.password.errors) or "密码无效", "error")
        return redirect(url_for("admin.users"))
    return _act(lambda: accounts.reset_password(user_id, form.password.data, actor_id=current_user.id),
                "密码已重置")


@bp.post("/users/<int:user_id>/email")
@requires("manage_users")
def set_email(user_id: int):
    """Set or clear where a user's alert e-mail goes."""
    EmptyForm().validate_on_submit()
    return _act(lambda: accounts.set_email(user_id, request.form.get("email", ""), actor_id=current_user.id),
                "电子邮箱已保存")


@bp.post("/users/<int:user_id>/sign-out")
@requires("manage_users")
def sign_out_everywhere(user_id: int):
    """End every session of the user."""
    EmptyForm().validate_on_submit()
    return _act(lambda: accounts.sign_out_everywhere(user_id, actor_id=current_user.id), "该用户已在所有设备上退出")


@bp.post("/tokens")
@requires("manage_users")
def create_api_token():
    """Create an API token; it is shown once on the page that answers."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(422, token_form=form)
    _, plain = create_token(form.name.data, actor_id=current_user.id)
    return _page(201, new_token=plain)


@bp.post("/tokens/<int:token_id>/revoke")
@requires("manage_users")
def revoke_api_token(token_id: int):
    """Revoke an API token."""
    EmptyForm().validate_on_submit()
    revoke_token(token_id, actor_id=current_user.id)
    flash("令牌已吊销", "success")
    return redirect(url_for("admin.users", _anchor="tokens") if request else url_for("admin.users"))
