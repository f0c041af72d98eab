"""Admin forms: users and API tokens."""

from __future__ import annotations

from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from console.domain.passwords import password_problem
from console.domain.roles import USERNAME_RULE, Role, username_problem
from console.forms import Form, options

ROLE_CHOICES = options((r.value, r.label) for r in Role)


class StrongPassword:
    """The password policy of ``console.domain.passwords`` as a WTForms validator."""

    def __init__(self, username_field: str | None = None):
        self.username_field = username_field

    def __call__(self, form, field):
        username = form[self.username_field].data if self.username_field else ""
        problem = password_problem(field.data or "", username=username or "")
        if problem:
            raise ValidationError(problem)


class CreateUserForm(Form):
    username = StringField("用户名", validators=[DataRequired("必填")])
    display_name = StringField("姓名", validators=[DataRequired("必填"), Length(max=64)])
    role = SelectField("角色", choices=ROLE_CHOICES)
    email = StringField("电子邮箱（接收超时提醒，可不填）", validators=[Length(max=254)])
    password = PasswordField("初始密码", validators=[DataRequired("必填"), StrongPassword("username")])

    def validate_username(self, field):
        if username_problem(field.data or ""):
            raise ValidationError(USERNAME_RULE)


class RoleForm(Form):
    role = SelectField("角色", choices=ROLE_CHOICES)


class ResetPasswordForm(Form):
    password = PasswordField("新密码", validators=[DataRequired("必填"), StrongPassword()])


class TokenForm(Form):
    name = StringField("令牌名称", validators=[DataRequired("必填"), Length(max=100)])


class EmailForm(Form):
    email = StringField("电子邮箱", validators=[Length(max=254, message="最长 254 个字符")])
