"""Settings kept by supervisors: SLA limits, province rules, calendar, rejection reasons."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from console.auth import requires
from console.domain.applicant_texts import DEFAULT_TEXTS, EVENT_LABELS, PLACEHOLDERS
from console.domain.calendar import to_local, utcnow
from console.domain.materials import MATERIAL_KINDS
from console.domain.order_fields import SUBJECT_TYPES
from console.domain.provinces import PROVINCE_NAMES
from console.domain.sla import Unit
from console.domain.workflow import TIMED_STATES, State
from console.forms import field_errors
from console.forms.auth import EmptyForm
from console.forms.settings import (
    CalendarOverrideForm,
    CalendarYearForm,
    MaterialRuleForm,
    ProvinceRuleForm,
    ReasonCatalogueForm,
    SlaForm,
    general_form,
)
from console.forms.webhooks import TextForm
from console.responses import go, partial, respond
from console.services import outbox, rule_admin
from console.services.actors import Actor
from console.services.errors import Invalid, NotFound
from console.services.reasons import catalogue
from console.services.rules import load_rules
from console.services.settings import DEFAULTS, all_settings, set_settings

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _actor() -> Actor:
    return Actor.for_user(current_user)


def _page(status: int = 200, errors: dict[str, list[str]] | None = None, province: str | None = None):
    rules = load_rules()
    return respond("settings/index.html", "settings/_index.html", status=status, rules=rules,
                   timed=[s for s in State if s in TIMED_STATES], units=list(Unit),
                   years=rule_admin.calendar_years(to_local(utcnow()).year), overrides=rule_admin.recent_overrides(),
                   provinces=PROVINCE_NAMES, editing=province if province in rules.provinces else None,
                   reasons=catalogue(include_retired=True), active_reasons=catalogue(), scalars=all_settings(),
                   scalar_specs=DEFAULTS, ordered_states=list(State), errors=errors or {},
                   open_timed=rule_admin.open_timed_count(), material_kinds=MATERIAL_KINDS,
                   subject_types=SUBJECT_TYPES)


@bp.get("")
@requires("keep_rules")
def index():
    """Everything supervisors can change, on one page."""
    return _page(province=request.args.get("province"))


def _done(message: str, anchor: str):
    return go(url_for("settings.index", _anchor=anchor), message)


def _refused(section: str, messages: list[str], province: str | None = None):
    """The page again (422) with what was wrong said in the section that was submitted."""
    return _page(422, {section: messages or ["提交的内容无效"]}, province=province)


def _service_refused(section: str, exc: Invalid | NotFound, province: str | None = None):
    details = [m for ms in exc.fields.values() for m in ms]
    return _refused(section, [exc.message + ("：" + "；".join(details) if details else "")], province)


def _form_refused(section: str, form, province: str | None = None):
    return _refused(section, [m for ms in field_errors(form).values() for m in ms], province)


@bp.post("/sla")
@requires("keep_rules")
def sla():
    """Change one stage's limit; open orders' due dates follow."""
    form = SlaForm()
    if not form.validate_on_submit():
        return _form_refused("sla", form)
    try:
        changed = rule_admin.set_sla(form.stage.data, form.limit.data, form.unit.data, _actor())
    except Invalid as exc:
        return _service_refused("sla", exc)
    return _done(f"时限已更新，{changed} 个进行中订单的截止时间已重新计算", "sla")


@bp.post("/provinces/<province>")
@requires("keep_rules")
def province(province: str):
    """Change a province's rule."""
    form = ProvinceRuleForm()
    if not form.validate_on_submit():
        return _form_refused("provinces", form, province)
    try:
        changed = rule_admin.set_province_rule(
            province, _actor(), sms_required_from=form.sms_required_from.data, sms_never=form.sms_never.data,
            bureau_limit_days=form.bureau_limit_days.data, mailing_required=form.mailing_required.data,
            mailing_items=(form.mailing_items.data or "").splitlines(),
            mailing_address=form.mailing_address.data or "", consistency_required=form.consistency_required.data,
            required_materials=form.required_materials.data or [])
    except (Invalid, NotFound) as exc:
        return _service_refused("provinces", exc, province)
    return _done(f"{province}的规则已保存（重新计算了 {changed} 个订单）", "provinces")


@bp.post("/calendar")
@requires("keep_rules")
def calendar_override():
    """Add or change one date."""
    form = CalendarOverrideForm()
    if not form.validate_on_submit():
        return _form_refused("calendar", form)
    changed = rule_admin.set_override(form.day.data, form.kind.data == "work", form.note.data or "", _actor())
    return _done(f"日历已调整，{changed} 个订单的截止时间已重新计算", "calendar")


@bp.post("/calendar/<day>/delete")
@requires("keep_rules")
def calendar_delete(day: str):
    """Remove one date's adjustment."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        changed = rule_admin.delete_override(date.fromisoformat(day), _actor())
    except ValueError:
        return _refused("calendar", ["日期格式无效"])
    except NotFound as exc:
        return _service_refused("calendar", exc)
    return _done(f"已删除，{changed} 个订单的截止时间已重新计算", "calendar")


@bp.post("/calendar/year")
@requires("keep_rules")
def calendar_year():
    """Enter a year's official schedule (holidays and make-up days), marking the year official."""
    form = CalendarYearForm()
    if not form.validate_on_submit():
        return _form_refused("calendar", form)
    try:
        changed = rule_admin.import_year(form.year.data, form.schedule.data, _actor())
    except Invalid as exc:
        return _service_refused("calendar", exc)
    return _done(f"官方日程已录入，{changed} 个订单的截止时间已重新计算", "calendar")


@bp.post("/reasons")
@requires("keep_rules")
def reasons():
    """Add, relabel or retire a rejection reason."""
    form = ReasonCatalogueForm()
    if not form.validate_on_submit():
        return _form_refused("reasons", form)
    try:
        rule_admin.save_reason(form.code.data, form.label.data, form.active.data == "y", _actor())
    except Invalid as exc:
        return _service_refused("reasons", exc)
    return _done("驳回原因已保存", "reasons")


@bp.post("/materials/<subject_type>")
@requires("keep_rules")
def materials(subject_type: str):
    """Which material kinds one kind of subject must upload."""
    if subject_type not in SUBJECT_TYPES:
        abort(404)
    form = MaterialRuleForm()
    if not form.validate_on_submit():
        return _form_refused("materials", form)
    try:
        rule_admin.set_material_rule(subject_type, form.kinds.data or [], _actor())
    except (Invalid, NotFound) as exc:
        return _service_refused("materials", exc)
    return _done(f"{SUBJECT_TYPES[subject_type]}的资料要求已保存（进行中的订单在重新检查时按新要求核对）", "materials")


@bp.post("/general")
@requires("keep_rules")
def general():
    """Session timeouts and scheduler settings."""
    form = general_form(DEFAULTS)
    if not form.validate_on_submit():
        return _form_refused("general", form)
    values = {key: form[key].data for key in DEFAULTS if form[key].data is not None}
    try:
        set_settings(values, actor_id=current_user.id)
    except Invalid as exc:
        return _service_refused("general", exc)
    return _done("设置已保存", "general")


# --- the applicant's messages ------------------------------------------------------------------

@bp.get("/texts")
@requires("keep_rules")
def texts():
    """The message each event carries to the applicant, one template per event type, with a preview."""
    return _texts_page()


def _texts_page(status: int = 200, errors: dict | None = None, submitted: dict | None = None):
    return respond("settings/texts.html", status=status, texts=outbox.texts(), placeholders=PLACEHOLDERS,
                   errors=errors or {}, submitted=submitted or {})


@bp.post("/texts/<event_type>")
@requires("keep_rules")
def save_text(event_type: str):
    """Save one template (its default again when emptied to the default)."""
    if event_type not in DEFAULT_TEXTS:
        abort(404)
    form = TextForm()
    if not form.validate_on_submit():
        return _texts_page(422, {event_type: [m for ms in field_errors(form).values() for m in ms]},
                           {event_type: form.template.data or ""})
    try:
        outbox.save_text(event_type, form.template.data, actor_id=current_user.id)
    except (Invalid, NotFound) as exc:
        return go(url_for("settings.texts", _anchor="text-" + event_type.replace(".", "-")), exc.message, "error")
    return go(url_for("settings.texts", _anchor="text-" + event_type.replace(".", "-")), f"「{EVENT_LABELS[event_type]}」的消息已保存")


@bp.post("/texts/preview")
@requires("keep_rules")
def preview_text():
    """The template being typed, rendered for a sample order (htmx, as one types)."""
    form = TextForm()
    if not form.validate_on_submit():
        problems = [m for ms in field_errors(form).values() for m in ms] or ["提交的内容无效"]
        return partial("settings/_text_preview.html", status=422, problem="；".join(problems))
    return partial("settings/_text_preview.html", preview=outbox.preview(form.template.data))
