"""Supervisors' forms: reassignment, absences, releasing a person's orders."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from wtforms import DateField, FloatField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from console.domain.workflow import QUEUE_STATES
from console.forms import MAX_ID, Form, ValueListField, options

#: The latest moment a snapshot may name (year 9999 is refused before it reaches a datetime).
MAX_SNAPSHOT = 253402300799.0


class ReassignForm(Form):
    """Move chosen orders, or all orders matching a queue's filters, to a person or the pool."""

    scope = SelectField(choices=options([("selected", "选中的订单"), ("all", "全部符合筛选条件的订单")]),
                        default="selected")
    queue = SelectField(choices=options([("", ""), *((q, q) for q in QUEUE_STATES)]), validators=[Optional()])
    order = ValueListField("订单")
    to = StringField("转派给", validators=[DataRequired("请选择一位在职的审核人员，或「放回待领取」"), Length(max=12)])
    reason = StringField("转派原因", validators=[DataRequired("请填写转派原因"), Length(max=200)])
    snapshot = FloatField(validators=[Optional()])
    back = HiddenField()

    def validate_snapshot(self, field):
        if field.data is not None and not (math.isfinite(field.data) and 0 <= field.data <= MAX_SNAPSHOT):
            raise ValidationError("页面时间无效，请刷新页面后重试")

    def validate_queue(self, field):
        if self.scope.data == "all" and field.data not in QUEUE_STATES:
            raise ValidationError("队列无效")

    def validate_to(self, field):
        if field.data != "none" and not (field.data.isdigit() and 1 <= int(field.data) <= MAX_ID):
            raise ValidationError("请选择一位在职的审核人员，或「放回待领取」")


class AbsenceForm(Form):
    user_id = SelectField("人员", coerce=int, validate_choice=True)
    starts_on = DateField("开始", validators=[InputRequired("请填写开始日期")])
    ends_on = DateField("结束", validators=[InputRequired("请填写结束日期")])
    note = StringField("说明", validators=[Length(max=200)])

    def __init__(self, people: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = [(uid, name) for uid, name in people]


class ReleaseForm(Form):
    to = StringField("转给", default="none", validators=[Optional(), Length(max=12)])
    reason = StringField("原因", validators=[Length(max=200)])


class UndoMoveForm(Form):
    """Take back a bulk move (within supervision.UNDO_SECONDS): the move's time identifies it."""

    at = StringField("批量转派", validators=[DataRequired("缺少要撤销的批量转派"), Length(max=40)])
    back = HiddenField()

    def validate_at(self, field):
        try:
            moment = datetime.fromisoformat(field.data)
        except (TypeError, ValueError):
            raise ValidationError("要撤销的批量转派无效") from None
        if moment.tzinfo is None:
            raise ValidationError("要撤销的批量转派无效")
        self.moment = moment.astimezone(UTC)
