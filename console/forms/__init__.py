"""Input parsing and validation with WTForms; shared field types and helpers."""

from __future__ import annotations

from typing import ClassVar

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import HiddenInput, Select

from console.domain.text import CONTROL_MESSAGE, MAX_INT, has_control

#: Ids are PostgreSQL integers; anything larger is refused before it reaches a query.
MAX_ID = MAX_INT


class Form(FlaskForm):
    """The base of every form: WTForms' own messages in Chinese (with ``WTF_I18N_ENABLED`` off),
    and the boundary rule for text: no field accepts a control character (NUL and the like)."""

    class Meta:
        locales = ("zh",)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            values = field.data if isinstance(field.data, list) else [field.data]
            if any(isinstance(v, str) and has_control(v) for v in values):
                field.errors = [*field.errors, CONTROL_MESSAGE]
                valid = False
        return valid


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class ValueListField(Field):
    """Every value submitted under one name (checkboxes of a list): ``data`` is a list of strings."""

    widget = HiddenInput()
    max_length = 64

    def process_formdata(self, valuelist):
        self.data = [v.strip() for v in valuelist if v.strip()]
        if any(len(v) > self.max_length for v in self.data):
            self.data = []
            raise ValueError("所选项目无效")

    def _value(self):
        return ""


class IdListField(ValueListField):
    """Every id submitted under one name, as integers in the database's range."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if not all(v.isdigit() and 1 <= int(v) <= MAX_ID for v in self.data):
            self.data = []
            raise ValueError("所选项目无效")
        self.data = [int(v) for v in self.data]


def field_errors(form) -> dict[str, list[str]]:
    """The form's errors by field, CSRF excluded (it is answered globally)."""
    return {name: list(errors) for name, errors in form.errors.items() if name != "csrf_token"}


def add_errors(form, fields: dict[str, list[str]]) -> None:
    """Put a service's field errors beside the form's fields (form-level when no field matches)."""
    for name, messages in fields.items():
        key = name.replace(".", "__")
        if key in form:
            form[key].errors = [*form[key].errors, *messages]
        else:
            form.form_errors.extend(messages)


class CachedSelect(Select):
    """A ``<select>`` rendered once per (field, choices, selection, attributes) in a process.

    The queue filters render four selects on every page load, one with all 34 provinces; WTForms
    builds each option's attributes afresh (an eighth of a queue page's CPU). The output depends on
    nothing but the key, so a bounded dict of rendered selects is exact."""

    _rendered: ClassVar[dict] = {}  # shared by every instance: the key names the field
    capacity = 512

    def __call__(self, field, **kwargs):
        if any(c.render_kw or c.optgroup for c in field.choices):
            return super().__call__(field, **kwargs)
        key = (field.id, field.name, field.data, tuple((c.value, c.label) for c in field.choices),
               tuple(sorted(kwargs.items())), field.flags.required, field.flags.disabled)
        html = self._rendered.get(key)
        if html is None:
            if len(self._rendered) >= self.capacity:
                self._rendered.clear()
            html = self._rendered[key] = super().__call__(field, **kwargs)
        return html
