"""Settings kept by supervisors: SLA limits, province rules, calendar, rejection reasons."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from console.auth import requires
from console.domain.calendar import package_has_year, to_local, utcnow
from console.domain.provinces import PROVINCE_NAMES
from console.domain.sla import Unit
from console.domain.workflow import TIMED_STATES, State
from console.extensions import db
from console.models import CalendarOverride, CalendarYear
from console.services import rule_admin
from console.services.actors import Actor
from console.services.errors import Invalid, NotFound
from console.services.reasons import catalogue
from console.services.rules import load_rules
from console.services.settings import DEFAULTS, all_settings, set_setting
from console.templating import render

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _actor() -> Actor:
    return Actor.for_user(current_user)


@bp.get("")
@requires("keep_rules")
def index():
    """Everything supervisors can change, on one page."""
    rules = load_rules()
    year = to_local(utcnow()).year
    years = [{"year": y, "official": package_has_year(y) or db.session.get(CalendarYear, y) is not None,
              "source": "chinese-calendar" if package_has_year(y) else ("主管录入" if db.session.get(CalendarYear, y)
                                                                          else "预估")}
             for y in (year - 1, year, year + 1, year + 2)]
    overrides = db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day.desc()).limit(200)).all()
    province = request.args.get("province")
    return render("settings/index.html", "settings/_index.html", rules=rules, timed=[s for s in State if s in TIMED_STATES],
                  units=list(Unit), years=years, overrides=overrides, provinces=PROVINCE_NAMES,
                  editing=province if province in rules.provinces else None, reasons=catalogue(include_retired=True),
                  active_reasons=catalogue(), scalars=all_settings(), scalar_specs=DEFAULTS,
                  ordered_states=list(State))


def _done(message: str, anchor: str):
    flash(message, "success")
    return redirect(url_for("settings.index", _anchor=anchor))


def _failed(exc, anchor: str, **args):
    details = "；".join(m for ms in getattr(exc, "fields", {}).values() for m in ms)
    flash(f"{exc.message}{'：' + details if details else ''}", "error")
    return redirect(url_for("settings.index", _anchor=anchor, **args))


@bp.post("/sla")
@requires("keep_rules")
def sla():
    """Change one stage's limit; open orders' due dates follow."""
    try:
        changed = rule_admin.set_sla(request.form.get("stage", ""), int(request.form.get("limit", "0")),
                                     request.form.get("unit", ""), _actor())
    except ValueError:
        return _failed(Invalid("时限须为整数"), "sla")
    except Invalid as exc:
        return _failed(exc, "sla")
    return _done(f"时限已更新，{changed} 个进行中订单的截止时间已重新计算", "sla")


@bp.post("/provinces/<province>")
@requires("keep_rules")
def province(province: str):
    """Change a province's rule."""
    form = request.form
    try:
        sms_from = date.fromisoformat(form["sms_required_from"]) if form.get("sms_required_from") else None
        limit = int(form["bureau_limit_days"]) if form.get("bureau_limit_days") else None
        changed = rule_admin.set_province_rule(
            province, _actor(), sms_required_from=sms_from, sms_never=form.get("sms_never") == "y",
            bureau_limit_days=limit, mailing_required=form.get("mailing_required") == "y",
            mailing_items=form.get("mailing_items", "").splitlines(), mailing_address=form.get("mailing_address", ""),
            consistency_required=form.get("consistency_required") == "y")
    except ValueError:
        return _failed(Invalid("日期或天数格式无效"), "provinces", province=province)
    except (Invalid, NotFound) as exc:
        return _failed(exc, "provinces", province=province)
    return _done(f"{province}的规则已保存（重新计算了 {changed} 个订单）", "provinces")


@bp.post("/calendar")
@requires("keep_rules")
def calendar_override():
    """Add or change one date."""
    try:
        day = date.fromisoformat(request.form.get("day", ""))
        changed = rule_admin.set_override(day, request.form.get("kind") == "work", request.form.get("note", ""),
                                          _actor())
    except ValueError:
        return _failed(Invalid("日期格式无效"), "calendar")
    return _done(f"日历已调整，{changed} 个订单的截止时间已重新计算", "calendar")


@bp.post("/calendar/<day>/delete")
@requires("keep_rules")
def calendar_delete(day: str):
    """Remove one date's adjustment."""
    try:
        changed = rule_admin.delete_override(date.fromisoformat(day), _actor())
    except ValueError:
        return _failed(Invalid("日期格式无效"), "calendar")
    except NotFound as exc:
        return _failed(exc, "calendar")
    return _done(f"已删除，{changed} 个订单的截止时间已重新计算", "calendar")


@bp.post("/calendar/year")
@requires("keep_rules")
def calendar_year():
    """Enter a year's official schedule (holidays and make-up days), marking the year official."""
    try:
        changed = rule_admin.import_year(int(request.form.get("year", "0")), request.form.get("schedule", ""),
                                         _actor())
    except ValueError:
        return _failed(Invalid("年份无效"), "calendar")
    except Invalid as exc:
        return _failed(exc, "calendar")
    return _done(f"官方日程已录入，{changed} 个订单的截止时间已重新计算", "calendar")


@bp.post("/reasons")
@requires("keep_rules")
def reasons():
    """Add, relabel or retire a rejection reason."""
    try:
        rule_admin.save_reason(request.form.get("code", ""), request.form.get("label", ""),
                               request.form.get("active", "y") == "y", _actor())
    except Invalid as exc:
        return _failed(exc, "reasons")
    return _done("驳回原因已保存", "reasons")


@bp.post("/general")
@requires("keep_rules")
def general():
    """Session timeouts and scheduler settings."""
    try:
        for key in DEFAULTS:
            if key in request.form:
                set_setting(key, int(request.form[key]), actor_id=current_user.id)
    except ValueError:
        return _failed(Invalid("请填写整数"), "general")
    except Invalid as exc:
        return _failed(exc, "general")
    return _done("设置已保存", "general")
