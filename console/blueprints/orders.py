"""The order workspace: everything about one order, and the decisions on it."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, request, url_for
from flask_login import current_user

from console.auth import requires
from console.domain.reasons import REASON_FOR_CHECK
from console.domain.workflow import Action
from console.forms.orders import ApproveForm, RejectForm
from console.services import orders as order_service
from console.services.actors import Actor
from console.services.errors import Conflict
from console.services.workspace import load_workspace
from console.templating import render

bp = Blueprint("orders", __name__, url_prefix="/orders")


def _forms(ws, *, approve: ApproveForm | None = None, reject: RejectForm | None = None):
    order = ws.order
    if approve is None:
        approve = ApproveForm(formdata=None, open_errors=len(ws.errors), version=order.version,
                              mailing_required=bool(ws.province_rule and ws.province_rule.mailing_required))
    if reject is None:
        suggested = sorted({REASON_FOR_CHECK[f.check] for f in ws.errors if f.check in REASON_FOR_CHECK})
        reject = RejectForm(formdata=None, catalogue=ws.reasons, version=order.version, reasons=suggested)
    return approve, reject


def _page(ws, status: int = 200, *, banner: dict | None = None, **forms):
    approve, reject = _forms(ws, **forms)
    return render("orders/page.html", "orders/_workspace.html", status=status, ws=ws, order=ws.order,
                  approve_form=approve, reject_form=reject, banner=banner)


@bp.get("/<order_no>")
@requires("work_orders")
def workspace(order_no: str):
    """The order workspace."""
    return _page(load_workspace(order_no))


def _done(order_no: str, message: str):
    flash(message, "success")
    target = url_for("orders.workspace", order_no=order_no)
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _stale(ws, exc: Conflict, **forms):
    banner = {"kind": "stale" if exc.context.get("stale") else "conflict", "message": exc.message}
    return _page(ws, 409, banner=banner, **forms)


@bp.post("/<order_no>/approve")
@requires("work_orders")
def approve(order_no: str):
    """初审通过: to mailing, SMS or the bureau by the province rule."""
    ws = load_workspace(order_no)
    form = ApproveForm(open_errors=len(ws.errors))
    if not form.validate_on_submit():
        return _page(ws, 422, approve=form)
    note = (form.override_reason.data or "").strip()
    try:
        order_service.decide(order_no, Action.APPROVE, Actor.for_user(current_user),
                             expected_version=form.version.data, mailing_required=form.mailing_required.data,
                             note=f"忽略 {len(ws.errors)} 个错误：{note}" if ws.errors else note)
    except Conflict as exc:
        return _stale(load_workspace(order_no), exc, approve=form)
    return _done(order_no, "初审已通过")


@bp.post("/<order_no>/reject")
@requires("work_orders")
def reject(order_no: str):
    """初审驳回: back to the applicant with coded reasons and a note."""
    ws = load_workspace(order_no)
    form = RejectForm(catalogue=ws.reasons)
    if not form.validate_on_submit():
        return _page(ws, 422, reject=form)
    try:
        order_service.decide(order_no, Action.REJECT, Actor.for_user(current_user),
                             expected_version=form.version.data, reasons=form.reasons.data,
                             note=form.note.data.strip())
    except Conflict as exc:
        return _stale(load_workspace(order_no), exc, reject=form)
    return _done(order_no, "已驳回，订单退回申请人")


@bp.post("/<order_no>/claim")
@requires("work_orders")
def claim(order_no: str):
    """Claim the order from its workspace."""
    try:
        order_service.claim(order_no, Actor.for_user(current_user))
    except Conflict as exc:
        flash(exc.message, "warning")
    return redirect(url_for("orders.workspace", order_no=order_no))


@bp.post("/<order_no>/unclaim")
@requires("work_orders")
def unclaim(order_no: str):
    """Give the order back to the pool from its workspace."""
    try:
        order_service.unclaim(order_no, Actor.for_user(current_user))
    except Conflict as exc:
        flash(exc.message, "warning")
    return redirect(url_for("orders.workspace", order_no=order_no))
