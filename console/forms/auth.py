"""Sign-in form."""

from __future__ import annotations

from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from console.domain.roles import AFTER_DECISION
from console.forms import Form, options


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])
    next = HiddenField()


class EmptyForm(Form):
    """A POST-only button: carries nothing but the CSRF token."""


class AfterDecisionForm(Form):
    """Where a decision leads: the next order of the queue, the queue, or the decided order."""

    after_decision = SelectField("决定后", choices=options(list(AFTER_DECISION.items())),
                                 validators=[DataRequired("请选择")])
