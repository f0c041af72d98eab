"""Forms of the workspace besides the decisions: calls, notes, the checklist of mailed materials."""

from __future__ import annotations

from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from console.domain.mailing import ITEM_STATUSES
from console.forms import Form, options
from console.forms.orders import VersionedForm


class CallForm(Form):
    number = StringField("号码", validators=[DataRequired("请选择或填写拨打的号码"), Length(max=30)])
    reached = RadioField("结果", choices=options([("1", "已接通"), ("0", "未接通")]), default="0")
    note = StringField("通话要点", validators=[Length(max=500, message="最长 500 字")])


class NoteForm(Form):
    text = TextAreaField("内部备注", validators=[DataRequired("备注不能为空"), Length(max=2000, message="最长 2000 字")])


def mail_check_form(items: list[str] | tuple[str, ...]) -> VersionedForm:
    """The checklist of a province's mailed materials: a status and a note per item."""
    attrs: dict = {}
    for i, item in enumerate(items):
        # Choices and notes are checked by the service, which says which item is incomplete.
        attrs[f"item_{i}"] = RadioField(item, choices=options(ITEM_STATUSES.items()), validate_choice=False,
                                        validators=[Optional()])
        attrs[f"note_{i}"] = StringField("说明", validators=[Length(max=500)])
    form = type("MailCheckForm", (VersionedForm,), attrs)()
    form.items = list(items)
    return form


def checklist_results(form) -> dict[str, tuple[str, str]]:
    """``{item: (status, note)}`` from a submitted checklist."""
    return {item: (form[f"item_{i}"].data or "", form[f"note_{i}"].data or "") for i, item in enumerate(form.items)}
