"""Acknowledging alerts."""

from __future__ import annotations

from wtforms.validators import ValidationError

from console.forms import Form, IdListField


class AcknowledgeForm(Form):
    ids = IdListField("提醒")

    def validate_ids(self, field):
        if not field.data:
            raise ValidationError("请选择要确认的提醒")
