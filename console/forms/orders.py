"""Decisions in the workspace: approve and reject 初审."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from console.forms import MAX_ID, Form, options


class VersionedForm(Form):
    """Every decision carries the version the reviewer saw (a stale one gets 409)."""

    version = IntegerField(widget=HiddenField.widget,
                           validators=[InputRequired("缺少版本号"), NumberRange(1, MAX_ID, "版本号无效，请刷新页面")])


class ApproveForm(VersionedForm):
    mailing_required = BooleanField("需要邮寄纸质资料")
    override_reason = TextAreaField("忽略错误的理由", validators=[Length(max=1000)])

    def __init__(self, *args, open_errors: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_errors = open_errors

    def validate_override_reason(self, field):
        if self.open_errors and not (field.data or "").strip():
            raise ValidationError(f"此订单还有 {self.open_errors} 个错误，通过前须说明理由")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RejectForm(VersionedForm):
    reasons = MultiCheckboxField("驳回原因", validators=[DataRequired("至少选择一个驳回原因")])
    note = TextAreaField("给申请人的说明", validators=[DataRequired("请填写给申请人的说明"), Length(max=2000)])

    def __init__(self, *args, catalogue: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.reasons.choices = options((catalogue or {}).items())


class MaterialMarkForm(VersionedForm):
    """A file is (1) or is not (0) of the wrong kind."""

    wrong = SelectField(choices=options([("1", "类型不符"), ("0", "类型正确")]), validators=[InputRequired("请选择")])
