"""Batch import of the bureau's results: upload, preview, apply with progress, report."""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from console.auth import requires
from console.forms import add_errors
from console.forms.auth import EmptyForm
from console.forms.stages import ImportForm
from console.responses import csv_download, go, partial, refresh, respond, wants_fragment
from console.services import imports
from console.services.actors import Actor
from console.services.errors import Invalid

bp = Blueprint("imports", __name__, url_prefix="/bureau/imports")


@bp.get("")
@requires("supervise")
def index():
    """Upload a results file; recent imports."""
    return respond("imports/index.html", "imports/_upload.html", form=ImportForm(formdata=None),
                   recent=imports.recent())


@bp.post("")
@requires("supervise")
def upload():
    """Parse and preview a file (nothing is applied yet)."""
    form = ImportForm()
    if form.validate_on_submit():
        data = form.file.data.read(imports.MAX_BYTES + 1)
        try:
            batch = imports.preview(form.file.data.filename, data, Actor.for_user(current_user))
        except Invalid as exc:
            add_errors(form, {"file": [m for ms in exc.fields.values() for m in ms]})
        else:
            return go(url_for("imports.show", import_id=batch.id))
    return respond("imports/index.html", "imports/_upload.html", status=422, form=form, recent=imports.recent())


@bp.get("/<id:import_id>")
@requires("supervise")
def show(import_id: int):
    """Preview (before applying), progress (while applying) or the report (after)."""
    batch = imports.get_import(import_id)
    only_failed = request.args.get("failed") == "1"
    rows, page, pages = imports.page_rows(batch.rows, request.args.get("page", 1, type=int) or 1,
                                          only_failed=only_failed)
    return respond("imports/show.html", "imports/_batch.html", batch=batch, counts=imports.row_counts(batch),
                   stalled=imports.stalled(batch), rows=rows, page=page, pages=pages, only_failed=only_failed)


@bp.post("/<id:import_id>/apply")
@requires("supervise")
def apply(import_id: int):
    """Hand the previewed rows to the jobs process, which applies them one transaction each."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    target = url_for("imports.show", import_id=import_id)
    try:
        imports.queue_apply(import_id, Actor.for_user(current_user))
    except Invalid as exc:  # already applying or done: the page shows where it stands
        return go(target, exc.message, "warning")
    return go(target, "已开始导入：任务进程正在逐行处理，可以离开此页面")


@bp.get("/<id:import_id>/progress")
@requires("supervise")
def progress(import_id: int):
    """The progress bar (polled every second while applying): counters only, never the rows."""
    batch = imports.get_progress(import_id)
    if batch.status == "done" and wants_fragment():
        return refresh(url_for("imports.show", import_id=import_id))
    return partial("imports/_progress.html", batch=batch, stalled=imports.stalled(batch))


@bp.get("/<id:import_id>/failures.csv")
@requires("supervise")
def failures(import_id: int):
    """The rows that failed, with why, as CSV (UTF-8 with BOM for Excel)."""
    batch = imports.get_import(import_id)
    return csv_download(imports.failures_csv(batch), f"import-{import_id}-failures.csv")


@bp.get("/template.csv")
@requires("supervise")
def template():
    """An example file with the expected columns."""
    return csv_download(imports.template_csv(), "bureau-results-template.csv")
