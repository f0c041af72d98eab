"""Forms of the stages after 初审: mailing, SMS verification, the bureau's result, imports."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from console.domain.mailing import COURIERS, tracking_problem
from console.forms import Form, options
from console.forms.orders import VersionedForm


class ShipmentForm(VersionedForm):
    courier = SelectField("快递公司", choices=options(COURIERS.items()))
    tracking_no = StringField("快递单号", validators=[DataRequired("请填写快递单号"), Length(max=40)])

    def validate_tracking_no(self, field):
        problem = tracking_problem(self.courier.data, (field.data or "").strip().upper())
        if problem:
            raise ValidationError(problem)


class ReceiveForm(VersionedForm):
    received_on = DateField("签收日期", validators=[DataRequired("请填写签收日期")])


class SmsVerifiedForm(VersionedForm):
    verified_at = DateTimeLocalField("核验时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                     validators=[DataRequired("请填写核验时间")])


class ReasonForm(VersionedForm):
    reason = TextAreaField("原因", validators=[DataRequired("请填写原因"), Length(max=1000)])


class BureauApproveForm(VersionedForm):
    filing_number = StringField("网站备案号", validators=[DataRequired("请填写管局确认的网站备案号"), Length(max=40)])
    reason = TextAreaField("与原备案号不同的原因", validators=[Optional(), Length(max=1000)])


class ImportForm(Form):
    file = FileField("结果文件（.csv 或 .xlsx）", validators=[FileRequired("请选择文件")])


class RegistryImportForm(Form):
    file = FileField("备案登记文件（.csv 或 .xlsx）", validators=[FileRequired("请选择文件")])
