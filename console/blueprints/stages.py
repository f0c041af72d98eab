"""Work on orders after 初审: mailed materials, SMS verification, the bureau's result."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, request

from console.auth import requires
from console.blueprints.orders import _conflict, _done, _page, me
from console.domain.calendar import SHANGHAI
from console.domain.workflow import State
from console.forms.stages import BureauApproveForm, ReasonForm, ReceiveForm, ShipmentForm, SmsVerifiedForm
from console.services import orders as order_service
from console.services import postreview
from console.services.errors import Conflict, Invalid
from console.services.workspace import load_workspace

bp = Blueprint("stages", __name__, url_prefix="/orders")


def _invalid(order_no: str, form, exc: Invalid | None = None, name: str = "stage_form"):
    if exc is not None:
        for field, messages in exc.fields.items():
            if field in form:
                form[field].errors = list(form[field].errors) + messages
            else:
                form.form_errors.append("；".join(messages))
    return _page(load_workspace(order_no), 422, stage_forms={name: form})


def _run(order_no: str, form, action, message: str, name: str):
    if not form.validate_on_submit():
        return _invalid(order_no, form, name=name)
    try:
        action(form)
    except Invalid as exc:
        return _invalid(order_no, form, exc, name=name)
    except Conflict as exc:
        return _conflict(order_no, exc)
    return _done(order_no, message)


@bp.post("/<order_no>/shipment")
@requires("work_orders")
def shipment(order_no: str):
    """Record the courier and tracking number of the applicant's parcel."""
    return _run(order_no, ShipmentForm(), lambda f: postreview.record_shipment(
        order_no, f.courier.data, f.tracking_no.data, me(), expected_version=f.version.data), "快递信息已登记", "shipment")


@bp.post("/<order_no>/receive")
@requires("work_orders")
def receive(order_no: str):
    """The parcel arrived: start the materials check."""
    return _run(order_no, ReceiveForm(), lambda f: postreview.receive_mail(
        order_no, f.received_on.data, me(), expected_version=f.version.data), "已签收，开始核对资料", "receive")


@bp.post("/<order_no>/mail-check")
@requires("work_orders")
def mail_check(order_no: str):
    """Tick the checklist; the order moves on or goes back for a new round."""
    ws = load_workspace(order_no)
    items = ws.province_rule.mailing_items if ws.province_rule else ()
    results = {item: (request.form.get(f"item_{i}", ""), request.form.get(f"note_{i}", ""))
               for i, item in enumerate(items)}
    version = request.form.get("version", type=int)
    try:
        if version is None:
            raise Invalid("缺少版本号", fields={"version": ["缺少版本号"]})
        order = postreview.check_mail(order_no, results, me(), expected_version=version)
    except Invalid as exc:
        return _page(ws, 422, check_errors=exc.fields, check_values=request.form)
    except Conflict as exc:
        return _conflict(order_no, exc)
    passed = order.state != State.AWAITING_MAIL
    return _done(order_no, "资料核对通过" if passed else "资料核对不通过，已通知申请人重新邮寄")


@bp.post("/<order_no>/sms/resend")
@requires("work_orders")
def sms_resend(order_no: str):
    """Record that the MIIT system resent the code."""
    version = request.form.get("version", type=int)
    try:
        postreview.resend_sms(order_no, me(), expected_version=version if version is not None else -1)
    except Conflict as exc:
        return _conflict(order_no, exc)
    return _done(order_no, "已记录重发验证码")


@bp.post("/<order_no>/sms/verified")
@requires("work_orders")
def sms_verified(order_no: str):
    """The applicant entered the code: on to the bureau."""
    form = SmsVerifiedForm()

    def act(f):
        order = order_service.get_order(order_no)
        if order.version != f.version.data:
            raise Conflict("此订单已被他人修改，请刷新后重试", stale=True)
        at = f.verified_at.data.replace(tzinfo=SHANGHAI).astimezone(UTC)
        order_service.sms_verified(order_no, at, me())

    return _run(order_no, form, act, "短信核验完成，已提交管局审核", "sms_verified")


@bp.post("/<order_no>/sms/failed")
@requires("work_orders")
def sms_failed(order_no: str):
    """Verification failed: back to the applicant with the reason."""
    return _run(order_no, ReasonForm(prefix="fail"), lambda f: postreview.sms_failed(
        order_no, f.reason.data, me(), expected_version=f.version.data), "短信核验失败，订单已退回", "sms_failed")


@bp.post("/<order_no>/bureau/approve")
@requires("work_orders")
def bureau_approve(order_no: str):
    """The bureau approved: record the website's filing number."""
    return _run(order_no, BureauApproveForm(), lambda f: postreview.bureau_approve(
        order_no, f.filing_number.data, me(), expected_version=f.version.data, reason=f.reason.data or ""),
        "已记录管局审核通过", "bureau_approve")


@bp.post("/<order_no>/bureau/reject")
@requires("work_orders")
def bureau_reject(order_no: str):
    """The bureau rejected, with its reason."""
    return _run(order_no, ReasonForm(prefix="reject"), lambda f: postreview.bureau_reject(
        order_no, f.reason.data, me(), expected_version=f.version.data), "已记录管局驳回", "bureau_reject")
