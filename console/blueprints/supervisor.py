"""The supervisors' board: load per person and queue, reassignment, absences, statistics."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, session, url_for
from flask_login import current_user

from console.auth import requires
from console.domain.calendar import to_local, utcnow
from console.domain.workflow import QUEUE_STATES
from console.forms import field_errors
from console.forms.auth import EmptyForm
from console.forms.queues import QueueFilterForm
from console.forms.supervisor import AbsenceForm, ReassignForm, ReleaseForm, UndoMoveForm
from console.responses import csv_download, go, respond
from console.safe_redirect import safe_next
from console.services import stats, supervision
from console.services.actors import Actor
from console.services.errors import Invalid, NotFound
from console.services.people import working_staff

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


def _board_url() -> str:
    return url_for("supervisor.board")


@bp.get("")
@requires("supervise")
def board():
    """Workload per specialist and queue, the unassigned pool, statistics (refreshes itself)."""
    rows, pool, total = supervision.board()
    today = to_local(utcnow()).date()
    staff = working_staff()
    return respond("supervisor/board.html", "supervisor/_board.html", rows=rows, pool=pool, total=total,
                   queues=list(QUEUE_STATES), stats=stats.current_statistics(), staff=staff,
                   absences=supervision.absences_from(today), people={u.id: u.display_name for u in staff},
                   today=today)


@bp.get("/stats.csv")
@requires("supervise")
def stats_csv():
    """The numbers behind the charts."""
    return csv_download(stats.statistics_csv(stats.current_statistics()), "console-statistics.csv")


def _said(errors: dict[str, list[str]]) -> str:
    return "；".join(m for ms in errors.values() for m in ms)


@bp.post("/reassign")
@requires("supervise")
def reassign():
    """Move selected orders, or all orders matching a queue filter, to a person or the pool."""
    form = ReassignForm()
    back = safe_next(form.back.data, url_for("queues.initial_review"))
    if not form.validate_on_submit():
        return go(back, "转派未执行：" + (_said(field_errors(form)) or "提交的内容无效"), "error")
    snapshot = datetime.fromtimestamp(form.snapshot.data, UTC) if form.snapshot.data is not None else utcnow()
    every = form.scope.data == "all"
    filters = None
    if every:
        people = [(str(u.id), u.display_name) for u in working_staff()]
        filters = QueueFilterForm(form.queue.data, people, meta={"csrf": False}).to_filter()
    try:
        result = supervision.reassign(
            Actor.for_user(current_user), to=form.to.data, reason=form.reason.data, snapshot_at=snapshot,
            order_nos=None if every else form.order.data, queue=form.queue.data if every else None, filters=filters)
    except Invalid as exc:
        return go(back, exc.message + "：" + _said(exc.fields), "error")
    message = f"已转派 {len(result.moved)} 单"
    if result.skipped:
        shown = "、".join(result.skipped[:10]) + (" 等" if len(result.skipped) > 10 else "")
        message += f"；跳过 {len(result.skipped)} 单（打开页面后已有变化，未覆盖）：{shown}"
    _offer_undo(result.at, len(result.moved), back)
    return go(back, message, "warning" if result.skipped else "success")


def _offer_undo(at, count: int, back: str) -> None:
    """The next page offers 撤销 for this move (base.html, for supervision.UNDO_SECONDS)."""
    if count:
        session["undo_move"] = {"at": at.isoformat(), "count": count, "back": back}


@bp.post("/reassign/undo")
@requires("supervise")
def undo_reassign():
    """Take back the bulk move just made: orders untouched since go back to whoever had them."""
    form = UndoMoveForm()
    back = safe_next(form.back.data, _board_url())
    if not form.validate_on_submit():
        return go(back, "未撤销：" + (_said(field_errors(form)) or "提交的内容无效"), "error")
    try:
        result = supervision.undo_reassign(Actor.for_user(current_user), form.moment)
    except Invalid as exc:
        return go(back, "未撤销：" + exc.message, "error")
    message = f"已撤销批量转派：{len(result.moved)} 单已回到原处理人"
    if result.skipped:
        message += f"；{len(result.skipped)} 单转派后已有变化，保持现状"
    return go(back, message, "warning" if result.skipped else "success")


@bp.post("/absences")
@requires("supervise")
def add_absence():
    """Mark a specialist absent between two dates."""
    form = AbsenceForm([(u.id, u.display_name) for u in working_staff()])
    target = url_for("supervisor.board", _anchor="absences")
    if not form.validate_on_submit():
        return go(target, "请选择人员并填写开始和结束日期：" + _said(field_errors(form)), "error")
    try:
        supervision.add_absence(form.user_id.data, form.starts_on.data, form.ends_on.data, form.note.data or "",
                                Actor.for_user(current_user))
    except (Invalid, NotFound) as exc:
        return go(target, exc.message, "error")
    return go(target, "已登记休假")


@bp.post("/absences/<id:absence_id>/delete")
@requires("supervise")
def delete_absence(absence_id: int):
    """End an absence early."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    target = url_for("supervisor.board", _anchor="absences")
    try:
        supervision.end_absence(absence_id)
    except NotFound as exc:
        return go(target, exc.message, "error")
    return go(target, "已取消休假")


@bp.post("/release/<id:user_id>")
@requires("supervise")
def release(user_id: int):
    """Return every unfinished order of a person to the pool, or move them all to someone."""
    form = ReleaseForm()
    if not form.validate_on_submit():
        return go(_board_url(), _said(field_errors(form)) or "提交的内容无效", "error")
    try:
        moved, skipped, at = supervision.release_all(user_id, Actor.for_user(current_user),
                                                     to=form.to.data or "none",
                                                     reason=form.reason.data or "人员休假，订单转出")
    except Invalid as exc:
        return go(_board_url(), exc.message, "error")
    _offer_undo(at, moved, _board_url())
    return go(_board_url(), f"已转出 {moved} 单" + (f"，跳过 {skipped} 单" if skipped else ""))
