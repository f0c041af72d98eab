"""Forms of the settings page: SLA limits, province rules, the calendar, reasons, general settings."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from console.domain.materials import MATERIAL_KINDS
from console.domain.sla import Unit
from console.domain.workflow import TIMED_STATES, State
from console.forms import Form, options

STAGE_CHOICES = options((s.value, s.label) for s in State if s in TIMED_STATES)


class SlaForm(Form):
    # Stage and unit are checked by the service (环节无效, 单位无效), as are the limits per unit.
    stage = SelectField("环节", choices=STAGE_CHOICES, validate_choice=False)
    limit = IntegerField("时限", validators=[InputRequired("时限须为整数"), NumberRange(1, 720, "时限无效：工作日 1–60，小时 1–720")])
    unit = SelectField("单位", choices=options((u.value, u.label) for u in Unit), validate_choice=False)


class ProvinceRuleForm(Form):
    sms_required_from = DateField("短信核验起始日期", validators=[Optional()])
    sms_never = BooleanField("不需要短信核验", false_values=("", "n", "false"))
    bureau_limit_days = IntegerField("管局审核时限（工作日）", validators=[Optional(), NumberRange(1, 60, "管局时限无效：1–60 个工作日")])
    mailing_required = BooleanField("需要邮寄纸质资料", false_values=("", "n", "false"))
    mailing_address = StringField("邮寄地址", validators=[Length(max=300)])
    mailing_items = TextAreaField("邮寄资料清单", validators=[Length(max=2000)])
    consistency_required = BooleanField("接入前后信息须保持一致", false_values=("", "n", "false"))
    required_materials = SelectMultipleField("本省另需上传的资料", choices=options(list(MATERIAL_KINDS.items())),
                                             validate_choice=True)


class CalendarOverrideForm(Form):
    day = DateField("日期", validators=[InputRequired("请填写日期（YYYY-MM-DD）")])
    kind = SelectField("类型", choices=options([("off", "休息日"), ("work", "工作日（调休上班）")]))
    note = StringField("说明", validators=[Length(max=200)])


class CalendarYearForm(Form):
    year = IntegerField("年份", validators=[InputRequired("年份无效"), NumberRange(2000, 2100, "年份须在 2000–2100 之间")])
    schedule = TextAreaField("日程", validators=[DataRequired("请填写日程"), Length(max=20_000)])


class ReasonCatalogueForm(Form):
    code = StringField("代码", validators=[DataRequired("请填写代码"), Length(max=40)])
    label = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=100)])
    active = SelectField("状态", choices=options([("y", "启用"), ("n", "停用")]), default="y")


def general_form(specs: dict[str, tuple[int, int, int, str]]) -> Form:
    """One integer field per scalar setting, in its allowed range."""
    attrs = {key: IntegerField(label, validators=[Optional(), NumberRange(low, high, f"{label}须在 {low}–{high} 之间")])
             for key, (_default, low, high, label) in specs.items()}
    return type("GeneralSettingsForm", (Form,), attrs)()


class MaterialRuleForm(Form):
    """The material kinds one kind of subject must upload."""

    kinds = SelectMultipleField("必须上传的资料", choices=options(list(MATERIAL_KINDS.items())),
                                validate_choice=True)
