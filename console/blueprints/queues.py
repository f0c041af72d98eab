"""The three work queues, claiming from a row, and 领取下一单."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request, session, url_for
from flask_login import current_user

from console.auth import can, requires
from console.domain.calendar import utcnow
from console.domain.mailing import COURIERS
from console.domain.order_fields import Kind
from console.domain.workflow import State, queue_of
from console.forms.auth import EmptyForm
from console.forms.queues import QueueFilterForm
from console.responses import go, is_htmx, partial, respond, wants_fragment
from console.services import orders as order_service
from console.services import queues as queue_service
from console.services.actors import Actor
from console.services.errors import Conflict
from console.services.people import staff_choices
from console.services.queues import QueuePage
from console.services.rules import load_rules

bp = Blueprint("queues", __name__, url_prefix="/queues")

QUEUES = {
    "initial-review": "初审",
    "mailing": "邮寄核对",
    "bureau": "管局结果",
}


_KINDS = {k.value: k.label for k in Kind}
_STATES = {s.value: s.label for s in State}


def row_urls() -> dict:
    """What every row needs, computed once per page (url_for per row is measurably slow)."""
    return {"workspace": url_for("orders.workspace", order_no="X")[:-1],
            "row": url_for("queues.claim", order_no="X")[:-len("X/claim")],
            "me": current_user.id, "supervise": can("supervise"), "couriers": COURIERS,
            "kinds": _KINDS, "states": _STATES}


def show_queue(queue: str):
    people = staff_choices()
    form = QueueFilterForm(queue, people, formdata=request.args)
    filters = form.to_filter()
    page = queue_service.queue_page(queue, filters, current_user.id, cursor=request.args.get("after"))
    extras = queue_service.row_extras(queue, page.rows, load_rules()) if queue != "initial-review" else {}
    bulk = can("supervise")
    context = dict(queue=queue, queue_title=QUEUES[queue], form=form, page=page,
                   query_args=form.query_args(), extras=extras, bulk=bulk,
                   matching=queue_service.count_matching(queue, filters, current_user.id) if bulk else None,
                   snapshot=f"{utcnow().timestamp():.6f}", staff=people, u=row_urls())
    if wants_fragment() and request.args.get("after"):
        return partial("queues/_rows.html", **context)  # "load more": rows only
    # The page's version: what its rows show. A live poll that already has it gets 304, unrendered.
    etag = queue_service.page_version(page, context["matching"], current_user.id, bulk)
    if wants_fragment() and etag in request.if_none_match:
        return Response(status=304, headers={"ETag": f'"{etag}"', "Vary": "HX-Request"})
    # The workspace links back to the queue as last seen, filters included.
    # Written only when they change: an unchanged session is not re-signed and re-sent.
    last = {"queue": queue, "args": form.query_args()}  # for 决定后打开下一单
    if session.get("last_queue_filters") != last:
        session["last_queue"] = url_for(f"queues.{queue.replace('-', '_')}", **form.query_args())
        session["last_queue_filters"] = last
    response = respond("queues/page.html", "queues/_results.html", etag=f'"{etag}"',
                       poll_seconds=current_app.config["QUEUE_POLL_SECONDS"], page_size=queue_service.PAGE_SIZE,
                       **context)
    response.set_etag(etag)
    return response


@bp.get("/initial-review")
@requires("work_orders")
def initial_review():
    """初审 queue: orders waiting for the initial review, most urgent first."""
    return show_queue("initial-review")


@bp.get("/mailing")
@requires("work_orders")
def mailing():
    """邮寄核对 queue: orders waiting for or in the check of mailed materials."""
    return show_queue("mailing")


@bp.get("/bureau")
@requires("work_orders")
def bureau():
    """管局结果 queue: SMS verification and the bureau's review."""
    return show_queue("bureau")


@bp.get("/counts")
@requires("work_orders")
def counts():
    """The navigation's queue counts (polled, and refreshed on the ordersChanged event)."""
    return partial("_nav_counts.html", counts=queue_service.nav_counts(current_user.id))


@bp.post("/<queue>/claim-next")
@requires("work_orders")
def claim_next(queue: str):
    """Take the most urgent unassigned order of the queue, under its current filters, and open it."""
    if queue not in QUEUES:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    form = QueueFilterForm(queue, staff_choices(), meta={"csrf": False})  # the filters travel with the button
    order = order_service.claim_next(queue, Actor.for_user(current_user), filters=form.to_filter())
    if order is None:
        target = url_for(f"queues.{queue.replace('-', '_')}", empty="1", **form.query_args())
    else:
        target = url_for("orders.workspace", order_no=order.order_no)
    return go(target)


@bp.post("/row/<order_no:order_no>/claim")
@requires("work_orders")
def claim(order_no: str):
    """Claim one order from a queue row; the row re-renders with the new assignee."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        order, message = order_service.claim(order_no, Actor.for_user(current_user)), None
    except Conflict as exc:
        order, message = order_service.get_order(order_no), exc.message
    return _row_response(order, message)


@bp.post("/row/<order_no:order_no>/unclaim")
@requires("work_orders")
def unclaim(order_no: str):
    """Give an order back to the pool."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        order, message = order_service.unclaim(order_no, Actor.for_user(current_user)), None
    except Conflict as exc:
        order, message = order_service.get_order(order_no), exc.message
    return _row_response(order, message)


def _row_response(order, message: str | None):
    """The row again (htmx) with what happened; a browser goes back to the queue."""
    queue = queue_of(order.state)
    if not is_htmx():
        return go(url_for(f"queues.{(queue or 'initial-review').replace('-', '_')}"), message, "warning")
    extras = queue_service.row_extras(queue, [order], load_rules()) if queue != "initial-review" else {}
    one = QueuePage(rows=[order], next_cursor=None, has_more=False)
    # the same cells as the rows around it (a supervisor's rows start with the bulk checkbox)
    return partial("queues/_rows.html", page=one, queue=queue, row_message=message, u=row_urls(), extras=extras,
                   bulk=can("supervise"), trigger="ordersChanged")
