"""Admin forms: webhook endpoints; supervisors' forms: applicant message templates."""

from __future__ import annotations

from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from console.domain.applicant_texts import EVENT_TYPES, MAX_TEMPLATE, template_problem
from console.forms import Form, options
from console.services.webhooks import url_problem


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WebhookForm(Form):
    url = StringField("接收地址", validators=[DataRequired("请填写接收地址"), Length(max=500)])
    event_types = CheckboxesField("事件类型（不选即全部）", choices=options((t.code, t.label) for t in EVENT_TYPES))

    def validate_url(self, field):
        problem = url_problem((field.data or "").strip())
        if problem:
            raise ValidationError(problem)


class TextForm(Form):
    template = TextAreaField("消息模板", validators=[DataRequired("不能为空"), Length(max=MAX_TEMPLATE)])

    def validate_template(self, field):
        problem = template_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
