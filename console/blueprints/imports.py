"""Batch import of the bureau's results: upload, preview, apply with progress, report."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from console.auth import requires
from console.extensions import db
from console.forms.stages import ImportForm
from console.models import BureauImport
from console.services import imports
from console.services.actors import Actor
from console.services.errors import Invalid
from console.templating import is_fragment_request, redirect_to, render

bp = Blueprint("imports", __name__, url_prefix="/bureau/imports")


def _recent():
    return db.session.scalars(select(BureauImport).order_by(BureauImport.id.desc()).limit(10)).all()


@bp.get("")
@requires("supervise")
def index():
    """Upload a results file; recent imports."""
    return render("imports/index.html", "imports/_upload.html", form=ImportForm(formdata=None), recent=_recent())


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
            form.file.errors = list(form.file.errors) + [m for ms in exc.fields.values() for m in ms]
        else:
            return redirect(url_for("imports.show", import_id=batch.id))
    return render("imports/index.html", "imports/_upload.html", status=422, form=form, recent=_recent())


@bp.get("/<int:import_id>")
@requires("supervise")
def show(import_id: int):
    """Preview (before applying), progress (while applying) or the report (after)."""
    batch = imports.get_import(import_id)
    return render("imports/show.html", "imports/_batch.html", batch=batch, counts=_counts(batch))


def _counts(batch) -> dict:
    counts = {"ok": 0, "skip": 0, "error": 0, "applied": 0}
    for row in batch.rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


@bp.post("/<int:import_id>/apply")
@requires("supervise")
def apply(import_id: int):
    """Apply the previewed rows, one transaction each, in the background."""
    try:
        imports.start_apply(current_app._get_current_object(), import_id, Actor.for_user(current_user))
    except Invalid as exc:  # already applying or done: the page shows where it stands
        flash(exc.message, "warning")
    return redirect_to(url_for("imports.show", import_id=import_id))


@bp.get("/<int:import_id>/progress")
@requires("supervise")
def progress(import_id: int):
    """The progress bar (polled every second while applying)."""
    batch = imports.get_import(import_id)
    if batch.status == "done" and is_fragment_request():
        response = make_response("", 204)
        response.headers["HX-Refresh"] = "true"
        return response
    return render_template("imports/_progress.html", batch=batch)


@bp.get("/<int:import_id>/failures.csv")
@requires("supervise")
def failures(import_id: int):
    """The rows that failed, with why, as CSV (UTF-8 with BOM for Excel)."""
    batch = imports.get_import(import_id)
    return Response(imports.failures_csv(batch), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=import-{import_id}-failures.csv"})


@bp.get("/template.csv")
@requires("supervise")
def template():
    """An example file with the expected columns."""
    return Response(imports.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=bureau-results-template.csv"})
