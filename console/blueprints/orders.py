"""The order workspace: everything about one order, and the work done on it."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, request, session, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from console.auth import can, requires
from console.domain.calendar import SHANGHAI
from console.domain.reasons import REASON_FOR_CHECK
from console.domain.workflow import Action
from console.forms import add_errors, field_errors
from console.forms.auth import EmptyForm
from console.forms.corrections import SECTIONS, correction_form, field_rows, values_of
from console.forms.orders import ApproveForm, MaterialMarkForm, RejectForm, VersionedForm
from console.forms.queues import QueueFilterForm
from console.forms.stages import BureauApproveForm, ReasonForm, ReceiveForm, ShipmentForm, SmsVerifiedForm
from console.forms.workspace import CallForm, NoteForm
from console.responses import go, partial, respond, wants_fragment
from console.safe_redirect import safe_next
from console.services import orders as order_service
from console.services import workbench
from console.services.actors import Actor
from console.services.errors import Conflict, Invalid
from console.services.mapping import order_to_body
from console.services.people import staff_choices
from console.services.workspace import changes_since, load_workspace

bp = Blueprint("orders", __name__, url_prefix="/orders")


def me() -> Actor:
    return Actor.for_user(current_user)


def _forms(ws, *, approve: ApproveForm | None = None, reject: RejectForm | None = None):
    order = ws.order
    if approve is None:
        approve = ApproveForm(formdata=None, open_errors=len(ws.errors), version=order.version,
                              mailing_required=bool(ws.province_rule and ws.province_rule.mailing_required))
    if reject is None:
        suggested = sorted({REASON_FOR_CHECK[f.check] for f in ws.errors if f.check in REASON_FOR_CHECK})
        reject = RejectForm(formdata=None, catalogue=ws.reasons, version=order.version, reasons=suggested)
    return approve, reject


def _stage_forms(ws, given: dict | None) -> dict:
    """The forms of the order's current stage, prefilled; ``given`` carries submitted ones."""
    order, v = ws.order, ws.order.version
    now = datetime.now(SHANGHAI)
    forms = {
        "shipment": ShipmentForm(formdata=None, version=v, courier=order.courier or "sf",
                                 tracking_no=order.tracking_no if order.mail_round and not ws.shipment_received else ""),
        "receive": ReceiveForm(formdata=None, version=v, received_on=now.date()),
        "sms_verified": SmsVerifiedForm(formdata=None, version=v, verified_at=now.replace(second=0, microsecond=0,
                                                                                         tzinfo=None)),
        "sms_failed": ReasonForm(formdata=None, version=v, prefix="fail"),
        "bureau_approve": BureauApproveForm(formdata=None, version=v, filing_number=(
            (order.original_filing or {}).get("filing_number") or order.website_filing_number)),
        "bureau_reject": ReasonForm(formdata=None, version=v, prefix="reject"),
    }
    forms.update(given or {})
    return forms


def _context(ws, *, banner: dict | None = None, editing: str | None = None, edit_form=None,
             approve=None, reject=None, stage_forms: dict | None = None, **extra) -> dict:
    approve, reject = _forms(ws, approve=approve, reject=reject)
    extra.setdefault("check_errors", {})
    extra.setdefault("check_values", {})
    calls = workbench.calls(ws.order)
    if editing and edit_form is None:
        edit_form = correction_form(editing, order_body=order_to_body(ws.order))
        edit_form.version.data = ws.order.version
    return dict(back_to_queue=safe_next(session.get("last_queue"), url_for("queues.initial_review")),
                ws=ws, order=ws.order, approve_form=approve, reject_form=reject, banner=banner, calls=calls,
                call_status=workbench.call_status(calls), notes=workbench.notes(ws.order), editing=editing,
                edit_form=edit_form, edit_fields=field_rows(editing, edit_form) if editing else [],
                viewers=workbench.other_viewers(ws.order, current_user.id), changed=False,
                stage_forms=_stage_forms(ws, stage_forms), staff_options=staff_choices() if can("supervise") else [],
                **extra)


def page(ws, status: int = 200, **kw):
    """The workspace: the page, or its body for htmx."""
    return respond("orders/page.html", "orders/_workspace.html", status=status, **_context(ws, **kw))


@bp.get("/<order_no:order_no>")
@requires("work_orders")
def workspace(order_no: str):
    """The order workspace."""
    return page(load_workspace(order_no))


def invalid_banner(form, errors: dict[str, list[str]] | None = None) -> dict:
    """What was wrong with a submitted form, said once at the top of the workspace (the fields say
    it again beside themselves where the form is shown)."""
    messages = [m for ms in (errors if errors is not None else field_errors(form)).values() for m in ms]
    messages += list(form.form_errors)
    return {"kind": "invalid", "message": "提交的内容有误：" + "；".join(dict.fromkeys(messages) or ["请检查后重试"])}


def done(order_no: str, message: str):
    """After a change: back to the workspace with a confirmation."""
    return go(url_for("orders.workspace", order_no=order_no), message)


def decided(order_no: str, queue: str | None, message: str):
    """After a decision that ends this step of the order, where the user chose to go
    (``User.after_decision``): the next order of the same queue under the filters last used there
    (claimed, as 领取下一单 would), the queue itself, or the decided order."""
    choice = current_user.after_decision
    if choice == "stay" or queue is None:
        return done(order_no, message)
    remembered = session.get("last_queue_filters") or {}
    args = remembered.get("args", {}) if remembered.get("queue") == queue else {}
    queue_url = url_for(f"queues.{queue.replace('-', '_')}", **args)
    if choice == "queue":
        return go(queue_url, message)
    filters = QueueFilterForm(queue, staff_choices(), formdata=MultiDict(args), meta={"csrf": False}).to_filter()
    following = order_service.claim_next(queue, me(), filters=filters, exclude=order_no)
    if following is None:
        return go(queue_url, f"{message}。队列中没有可领取的订单了", "success")
    return go(url_for("orders.workspace", order_no=following.order_no),
              f"{message}。已领取下一单 {following.order_no}")


def conflict(order_no: str, exc: Conflict, **forms):
    """The workspace again, with the conflict said once at the top (409). For a stale version the
    banner lists what changed since the page was loaded, and the submitted forms keep what was
    typed but carry the current version: submitting again applies it to the order as it is now."""
    ws = load_workspace(order_no)
    if not exc.context.get("stale"):
        return page(ws, 409, banner={"kind": "conflict", "message": exc.message}, **forms)
    return page(ws, 409, banner=stale_banner(ws, list(forms.values())), **forms)


def stale_banner(ws, forms: list) -> dict:
    """What changed since the version the forms were filled at; the forms move to the current one."""
    seen = next((f.version.data for f in forms if f is not None and "version" in f), None)
    changes = changes_since(ws, seen) if isinstance(seen, int) else []
    for form in forms:
        if form is not None and "version" in form:
            form.version.data = ws.order.version
            form.version.raw_data = [str(ws.order.version)]
    return {"kind": "stale", "message": "您打开此页面后，此订单已被他人修改", "changes": changes}


@bp.post("/<order_no:order_no>/approve")
@requires("work_orders")
def approve(order_no: str):
    """初审通过: to mailing, SMS or the bureau by the province rule."""
    ws = load_workspace(order_no)
    form = ApproveForm(open_errors=len(ws.errors))
    if not form.validate_on_submit():
        return page(ws, 422, approve=form, banner=invalid_banner(form))
    reason = (form.override_reason.data or "").strip()
    note = f"忽略 {len(ws.errors)} 个错误：{reason}" if ws.errors else reason
    queue = ws.order.queue  # before the decision moves it
    try:
        order_service.decide(order_no, Action.APPROVE, me(), expected_version=form.version.data,
                             mailing_required=form.mailing_required.data, note=note)
    except Conflict as exc:
        return conflict(order_no, exc, approve=form)
    return decided(order_no, queue, f"{order_no} 初审已通过")


@bp.post("/<order_no:order_no>/reject")
@requires("work_orders")
def reject(order_no: str):
    """初审驳回: back to the applicant with coded reasons and a note."""
    ws = load_workspace(order_no)
    form = RejectForm(catalogue=ws.reasons)
    if not form.validate_on_submit():
        return page(ws, 422, reject=form, banner=invalid_banner(form))
    queue = ws.order.queue  # before the decision moves it
    try:
        order_service.decide(order_no, Action.REJECT, me(), expected_version=form.version.data,
                             reasons=form.reasons.data, note=form.note.data.strip())
    except Conflict as exc:
        return conflict(order_no, exc, reject=form)
    return decided(order_no, queue, f"{order_no} 已驳回，订单退回申请人")


@bp.route("/<order_no:order_no>/edit/<section>", methods=["GET", "POST"])
@requires("work_orders")
def edit(order_no: str, section: str):
    """Correct one section (fields the applicant confirmed by phone); the checks re-run."""
    if section not in SECTIONS:
        abort(404)
    ws = load_workspace(order_no)
    if request.method == "GET":
        return _section(ws, section)
    form = correction_form(section, submitted=True)
    if not form.validate_on_submit():
        return _section(ws, section, form, 422)
    try:
        workbench.correct(order_no, values_of(section, form), me(), expected_version=form.version.data,
                          note=(form.edit_note.data or "").strip())
    except Invalid as exc:
        add_errors(form, exc.fields)
        return _section(ws, section, form, 422)
    except Conflict as exc:
        if wants_fragment():
            current = load_workspace(order_no)
            return partial("orders/_workspace.html", status=409, retarget="#workspace-root", reswap="innerHTML",
                           **_context(current, banner=stale_banner(current, [form]), editing=section, edit_form=form))
        return conflict(order_no, exc)
    if wants_fragment():
        return partial("orders/_workspace.html", retarget="#workspace-root", reswap="innerHTML",
                       trigger="ordersChanged", **_context(load_workspace(order_no)))
    return done(order_no, "修改已保存，检查已重新运行")


def _section(ws, section: str, form=None, status: int = 200):
    return respond("orders/page.html", "orders/_section.html", status=status, section=section,
                   **_context(ws, editing=section, edit_form=form))


def _side_panel(order_no: str, template: str, status: int = 200, **extra):
    if wants_fragment():
        return partial(template, status=status, **_context(load_workspace(order_no), **extra))
    if status >= 400:
        return page(load_workspace(order_no), status, **extra)
    return go(url_for("orders.workspace", order_no=order_no))


@bp.post("/<order_no:order_no>/calls")
@requires("work_orders")
def log_call(order_no: str):
    """Log a call attempt to the applicant (reached or not)."""
    form = CallForm()
    if not form.validate_on_submit():
        return _side_panel(order_no, "orders/_calls.html", 422, call_error=_first_error(form))
    try:
        workbench.log_call(order_no, form.number.data, form.reached.data == "1", form.note.data or "", me())
    except Invalid as exc:
        return _side_panel(order_no, "orders/_calls.html", 422, call_error=exc.message)
    return _side_panel(order_no, "orders/_calls.html")


@bp.post("/<order_no:order_no>/notes")
@requires("work_orders")
def add_note(order_no: str):
    """Add an internal note."""
    form = NoteForm()
    if not form.validate_on_submit():
        return _side_panel(order_no, "orders/_notes.html", 422, note_error=_first_error(form))
    workbench.add_note(order_no, form.text.data, me())
    return _side_panel(order_no, "orders/_notes.html")


def _first_error(form) -> str:
    return next((m for ms in form.errors.values() for m in ms), "提交的内容无效")


@bp.post("/<order_no:order_no>/recheck")
@requires("work_orders")
def recheck(order_no: str):
    """Run the 初审 checks again."""
    return _at_version(order_no, lambda version: workbench.recheck(order_no, me(), expected_version=version),
                       "已重新检查")


@bp.post("/<order_no:order_no>/materials/<int:position>/wrong-kind")
@requires("work_orders")
def mark_material(order_no: str, position: int):
    """Mark an uploaded file as not the kind it claims (or take the mark back); the checks re-run."""
    form = MaterialMarkForm()
    if not form.validate_on_submit():
        return page(load_workspace(order_no), 422, banner=invalid_banner(form))
    try:
        workbench.mark_material(order_no, position, form.wrong.data == "1", me(), expected_version=form.version.data)
    except Invalid as exc:
        return page(load_workspace(order_no), 422, banner=invalid_banner(form, exc.fields))
    except Conflict as exc:
        return conflict(order_no, exc)
    return done(order_no, "已标记资料类型不符，检查已重新运行" if form.wrong.data == "1" else "已取消资料类型不符标记")


@bp.post("/<order_no:order_no>/presence")
@requires("work_orders")
def presence(order_no: str):
    """Heartbeat from an open workspace: who else is here, and has the order changed."""
    order = order_service.get_order(order_no)
    viewers = workbench.heartbeat(order, current_user.id)
    seen = request.args.get("version", type=int)
    return partial("orders/_presence.html", order=order, viewers=viewers,
                   changed=seen is not None and seen != order.version)


@bp.post("/<order_no:order_no>/claim")
@requires("work_orders")
def claim(order_no: str):
    """Claim the order from its workspace."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        order_service.claim(order_no, me())
    except Conflict as exc:
        return go(url_for("orders.workspace", order_no=order_no), exc.message, "warning")
    return done(order_no, "已领取")


@bp.post("/<order_no:order_no>/unclaim")
@requires("work_orders")
def unclaim(order_no: str):
    """Give the order back to the pool from its workspace, at the version seen."""
    return _at_version(order_no, lambda version: order_service.unclaim(order_no, me(), expected_version=version),
                       "已放回队列")


def _at_version(order_no: str, change, message: str):
    """A button that carries only the version seen: run ``change(version)``; the workspace again."""
    form = VersionedForm()
    if not form.validate_on_submit():
        return page(load_workspace(order_no), 422, banner=invalid_banner(form))
    try:
        change(form.version.data)
    except Conflict as exc:
        return conflict(order_no, exc)
    if wants_fragment():
        return partial("orders/_workspace.html", **_context(load_workspace(order_no)))
    return done(order_no, message)
