"""Inline corrections of an order's sections, built from the field table (one rule per field)."""

from __future__ import annotations

from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from console.domain.checks import domain_forms
from console.domain.order_fields import FIELDS_BY_PATH, Field, get_path
from console.domain.provinces import PROVINCE_NAMES
from console.forms import MAX_ID, Form, options

SECTIONS: dict[str, tuple[str, list[str]]] = {
    "subject": ("主办单位", [
        "subject.name", "subject.type", "subject.certificate_type", "subject.certificate_number",
        "subject.filing_number",
        "subject.certificate_address.province", "subject.certificate_address.city",
        "subject.certificate_address.district", "subject.certificate_address.detail",
        "subject.mailing_address.province", "subject.mailing_address.city",
        "subject.mailing_address.district", "subject.mailing_address.detail", "subject.address_remark",
    ]),
    "website": ("网站", ["website.name", "website.filing_number", "website.previous_provider", "website.domains"]),
    "principal": ("网站负责人", [
        "principal.name", "principal.id_type", "principal.id_number", "principal.mobile", "principal.mobile2",
        "principal.emergency_phone", "principal.email",
    ]),
}


def field_name(path: str) -> str:
    return path.replace(".", "__")


def _wtf_field(spec: Field):
    checks = [DataRequired(f"{spec.label}必填")] if spec.required else [Optional()]
    if spec.path.endswith(".province"):
        return SelectField(spec.label, choices=options((p, p) for p in PROVINCE_NAMES), validators=checks)
    if spec.choices:
        return SelectField(spec.label, choices=options(spec.choices.items()), validators=checks)
    return StringField(spec.label, validators=[*checks, Length(max=spec.max_length)])


def _validate_domains(form, field):
    names = [line.strip().lower() for line in (field.data or "").splitlines() if line.strip()]
    if not names:
        raise ValidationError("至少填写一个域名")
    bad = [n for n in names if domain_forms(n) is None]
    if bad:
        raise ValidationError("无效的域名：" + "、".join(bad))


def correction_form(section: str, *, submitted: bool = False, order_body: dict | None = None) -> Form:
    """A form for one section: the submitted data, or prefilled from ``order_body``."""
    attrs: dict = {"version": IntegerField(widget=HiddenInput(), validators=[
        InputRequired("缺少版本号"), NumberRange(1, MAX_ID, "版本号无效，请刷新页面")]),
                   "edit_note": StringField("修改说明（电话确认情况）", validators=[Length(max=500)])}
    for path in SECTIONS[section][1]:
        if path == "website.domains":
            attrs[field_name(path)] = TextAreaField("域名（每行一个）", validators=[_validate_domains])
        else:
            attrs[field_name(path)] = _wtf_field(FIELDS_BY_PATH[path])
    form_class = type(f"Correct{section.title()}Form", (Form,), attrs)
    data = {}
    if order_body is not None:
        for path in SECTIONS[section][1]:
            value = get_path(order_body, path)
            data[field_name(path)] = "\n".join(value) if isinstance(value, list) else value
    if submitted:
        return form_class(data=data)
    return form_class(formdata=None, data=data)


def values_of(section: str, form) -> dict[str, object]:
    """The submitted values as ``{body path: value}``."""
    out: dict[str, object] = {}
    for path in SECTIONS[section][1]:
        raw = form[field_name(path)].data
        if path == "website.domains":
            out[path] = [line.strip().lower() for line in (raw or "").splitlines() if line.strip()]
        else:
            out[path] = (raw or "").strip()
    return out


def field_rows(section: str, form) -> list:
    return [form[field_name(path)] for path in SECTIONS[section][1]]


__all__ = ["SECTIONS", "correction_form", "field_name", "field_rows", "values_of"]
