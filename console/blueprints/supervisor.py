"""The supervisors' board: load per person and queue, reassignment, absences, statistics."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from console.auth import requires
from console.domain.calendar import to_local, utcnow
from console.domain.workflow import QUEUE_STATES
from console.extensions import db
from console.forms.queues import QueueFilterForm
from console.models import Absence, User
from console.safe_redirect import safe_next
from console.services import stats, supervision
from console.services.actors import Actor
from console.services.errors import Invalid, NotFound
from console.templating import render

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


def staff() -> list[User]:
    return db.session.scalars(select(User).where(User.active.is_(True), User.role != "admin")
                              .order_by(User.role.desc(), User.display_name)).all()


@bp.get("")
@requires("supervise")
def board():
    """Workload per specialist and queue, the unassigned pool, statistics (refreshes itself)."""
    rows, pool, total = supervision.board()
    today = to_local(utcnow()).date()
    absences = db.session.scalars(select(Absence).where(Absence.ends_on >= today).order_by(Absence.starts_on)).all()
    return render("supervisor/board.html", "supervisor/_board.html", rows=rows, pool=pool, total=total,
                  queues=list(QUEUE_STATES), stats=stats.statistics(), staff=staff(), absences=absences,
                  people={u.id: u.display_name for u in staff()}, today=today)


@bp.get("/stats.csv")
@requires("supervise")
def stats_csv():
    """The numbers behind the charts."""
    return Response("\ufeff" + stats.statistics_csv(stats.statistics()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=console-statistics.csv"})


@bp.post("/reassign")
@requires("supervise")
def reassign():
    """Move selected orders, or all orders matching a queue filter, to a person or the pool."""
    queue = request.form.get("queue", "")
    back = safe_next(request.form.get("back"), url_for("queues.initial_review"))
    try:
        snapshot = datetime.fromtimestamp(float(request.form.get("snapshot", "")), UTC)
    except ValueError:
        snapshot = utcnow()
    scope = request.form.get("scope", "selected")
    filters = None
    if scope == "all":
        if queue not in QUEUE_STATES:
            flash("队列无效", "error")
            return redirect(back)
        filters = QueueFilterForm(queue, [(str(u.id), u.display_name) for u in staff()],
                                  formdata=request.form, meta={"csrf": False}).to_filter()
    try:
        result = supervision.reassign(
            Actor.for_user(current_user), to=request.form.get("to", ""), reason=request.form.get("reason", ""),
            snapshot_at=snapshot, order_nos=request.form.getlist("order") if scope != "all" else None,
            queue=queue if scope == "all" else None, filters=filters)
    except Invalid as exc:
        flash(exc.message + "：" + "；".join(m for ms in exc.fields.values() for m in ms), "error")
        return redirect(back)
    message = f"已转派 {len(result.moved)} 单"
    if result.skipped:
        shown = "、".join(result.skipped[:10]) + (" 等" if len(result.skipped) > 10 else "")
        message += f"；跳过 {len(result.skipped)} 单（打开页面后已有变化，未覆盖）：{shown}"
    flash(message, "warning" if result.skipped else "success")
    return redirect(back)


@bp.post("/absences")
@requires("supervise")
def add_absence():
    """Mark a specialist absent between two dates."""
    try:
        user_id = int(request.form.get("user_id", ""))
        starts = datetime.strptime(request.form.get("starts_on", ""), "%Y-%m-%d").date()
        ends = datetime.strptime(request.form.get("ends_on", ""), "%Y-%m-%d").date()
        supervision.add_absence(user_id, starts, ends, request.form.get("note", ""), Actor.for_user(current_user))
    except ValueError:
        flash("请选择人员并填写开始和结束日期", "error")
    except (Invalid, NotFound) as exc:
        flash(exc.message, "error")
    else:
        flash("已登记休假", "success")
    return redirect(url_for("supervisor.board", _anchor="absences"))


@bp.post("/absences/<int:absence_id>/delete")
@requires("supervise")
def delete_absence(absence_id: int):
    """End an absence early."""
    try:
        supervision.end_absence(absence_id)
    except NotFound as exc:
        flash(exc.message, "error")
    return redirect(url_for("supervisor.board", _anchor="absences"))


@bp.post("/release/<int:user_id>")
@requires("supervise")
def release(user_id: int):
    """Return every unfinished order of a person to the pool, or move them all to someone."""
    to = request.form.get("to", "none")
    actor = Actor.for_user(current_user)
    moved = skipped = 0
    try:
        for queue in QUEUE_STATES:
            result = supervision.reassign(actor, to=to, reason=request.form.get("reason") or "人员休假，订单转出",
                                          snapshot_at=utcnow(), queue=queue,
                                          filters=supervision.QueueFilter(assignee=str(user_id)))
            moved, skipped = moved + len(result.moved), skipped + len(result.skipped)
    except Invalid as exc:
        flash(exc.message, "error")
    else:
        flash(f"已转出 {moved} 单" + (f"，跳过 {skipped} 单" if skipped else ""), "success")
    return redirect(url_for("supervisor.board"))
