"""Work on orders after 初审: mailed materials, SMS verification, the bureau's result."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint

from console.auth import requires
from console.blueprints.orders import conflict, decided, done, invalid_banner, me, page
from console.domain.calendar import SHANGHAI
from console.domain.workflow import State
from console.forms import add_errors, field_errors
from console.forms.orders import VersionedForm
from console.forms.stages import BureauApproveForm, ReasonForm, ReceiveForm, ShipmentForm, SmsVerifiedForm
from console.forms.workspace import checklist_results, mail_check_form
from console.services import orders as order_service
from console.services import postreview
from console.services.errors import Conflict, Invalid
from console.services.workspace import load_workspace

bp = Blueprint("stages", __name__, url_prefix="/orders")


def _run(order_no: str, form, action, message: str, name: str, *, decision: bool = False):
    """Validate ``form``, run ``action(form)``; errors beside the form, conflicts at the top. A
    ``decision`` ends the order's step: it leads where the user chose (orders.decided)."""
    if form.validate_on_submit():
        queue = order_service.get_order(order_no).queue
        try:
            action(form)
        except Invalid as exc:
            add_errors(form, exc.fields)
        except Conflict as exc:
            return conflict(order_no, exc)
        else:
            return decided(order_no, queue, f"{order_no} {message}") if decision else done(order_no, message)
    return page(load_workspace(order_no), 422, stage_forms={name: form}, banner=invalid_banner(form))


@bp.post("/<order_no:order_no>/shipment")
@requires("work_orders")
def shipment(order_no: str):
    """Record the courier and tracking number of the applicant's parcel."""
    return _run(order_no, ShipmentForm(), lambda f: postreview.record_shipment(
        order_no, f.courier.data, f.tracking_no.data, me(), expected_version=f.version.data), "快递信息已登记", "shipment")


@bp.post("/<order_no:order_no>/receive")
@requires("work_orders")
def receive(order_no: str):
    """The parcel arrived: start the materials check."""
    return _run(order_no, ReceiveForm(), lambda f: postreview.receive_mail(
        order_no, f.received_on.data, me(), expected_version=f.version.data), "已签收，开始核对资料", "receive")


@bp.post("/<order_no:order_no>/mail-check")
@requires("work_orders")
def mail_check(order_no: str):
    """Tick the checklist; the order moves on or goes back for a new round."""
    ws = load_workspace(order_no)
    form = mail_check_form(ws.province_rule.mailing_items if ws.province_rule else ())
    errors: dict[str, list[str]] = {}
    queue = ws.order.queue  # before the check moves it
    if form.validate_on_submit():
        try:
            order = postreview.check_mail(order_no, checklist_results(form), me(), expected_version=form.version.data)
        except Invalid as exc:
            errors = exc.fields
        except Conflict as exc:
            return conflict(order_no, exc)
        else:
            passed = order.state != State.AWAITING_MAIL
            return decided(order_no, queue,
                           f"{order_no} " + ("资料核对通过" if passed else "资料核对不通过，已通知申请人重新邮寄"))
    else:
        errors = field_errors(form)
    values = {name: field.data or "" for name, field in form._fields.items() if name.startswith(("item_", "note_"))}
    return page(ws, 422, check_errors=errors, check_values=values, banner=invalid_banner(form, errors))


@bp.post("/<order_no:order_no>/sms/resend")
@requires("work_orders")
def sms_resend(order_no: str):
    """Record that the MIIT system resent the code."""
    return _run(order_no, VersionedForm(), lambda f: postreview.resend_sms(
        order_no, me(), expected_version=f.version.data), "已记录重发验证码", "sms_resend")


@bp.post("/<order_no:order_no>/sms/verified")
@requires("work_orders")
def sms_verified(order_no: str):
    """The applicant entered the code: on to the bureau."""
    return _run(order_no, SmsVerifiedForm(), lambda f: order_service.sms_verified(
        order_no, f.verified_at.data.replace(tzinfo=SHANGHAI).astimezone(UTC), me(),
        expected_version=f.version.data), "短信核验完成，已提交管局审核", "sms_verified", decision=True)


@bp.post("/<order_no:order_no>/sms/failed")
@requires("work_orders")
def sms_failed(order_no: str):
    """Verification failed: back to the applicant with the reason."""
    return _run(order_no, ReasonForm(prefix="fail"), lambda f: postreview.sms_failed(
        order_no, f.reason.data, me(), expected_version=f.version.data), "短信核验失败，订单已退回", "sms_failed", decision=True)


@bp.post("/<order_no:order_no>/bureau/approve")
@requires("work_orders")
def bureau_approve(order_no: str):
    """The bureau approved: record the website's filing number."""
    return _run(order_no, BureauApproveForm(), lambda f: postreview.bureau_approve(
        order_no, f.filing_number.data, me(), expected_version=f.version.data, reason=f.reason.data or ""),
        "已记录管局审核通过", "bureau_approve", decision=True)


@bp.post("/<order_no:order_no>/bureau/reject")
@requires("work_orders")
def bureau_reject(order_no: str):
    """The bureau rejected, with its reason."""
    return _run(order_no, ReasonForm(prefix="reject"), lambda f: postreview.bureau_reject(
        order_no, f.reason.data, me(), expected_version=f.version.data), "已记录管局驳回", "bureau_reject", decision=True)
