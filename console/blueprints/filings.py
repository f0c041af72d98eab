"""Admin: the registry of filings made before the console — upload, preview, apply, report, look-up."""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from console.auth import requires
from console.forms import add_errors
from console.forms.auth import EmptyForm
from console.forms.stages import RegistryImportForm
from console.responses import csv_download, go, respond
from console.services import filings
from console.services.actors import Actor
from console.services.errors import Invalid
from console.services.imports import MAX_BYTES, page_rows

bp = Blueprint("filings", __name__, url_prefix="/admin/filings")


def _index(status: int = 200, form: RegistryImportForm | None = None):
    query = (request.args.get("q") or "").strip()[:100]
    return respond("admin/filings.html", status=status, form=form or RegistryImportForm(formdata=None),
                   recent=filings.recent(), summary=filings.summary(), query=query,
                   found=filings.search(query) if query else None, status_labels=filings.STATUS_LABELS)


@bp.get("")
@requires("manage_registry")
def index():
    """What the registry holds, a look-up by number, the upload form and recent imports."""
    return _index()


@bp.post("")
@requires("manage_registry")
def upload():
    """Parse and preview a registry file (nothing is written to the registry yet)."""
    form = RegistryImportForm()
    if form.validate_on_submit():
        data = form.file.data.read(MAX_BYTES + 1)
        try:
            batch = filings.preview(form.file.data.filename, data, Actor.for_user(current_user))
        except Invalid as exc:
            add_errors(form, {"file": [m for ms in exc.fields.values() for m in ms]})
        else:
            return go(url_for("filings.show", import_id=batch.id))
    return _index(422, form)


@bp.get("/imports/<id:import_id>")
@requires("manage_registry")
def show(import_id: int):
    """Preview (before applying) or report (after), a page of rows at a time."""
    batch = filings.get_import(import_id)
    only_failed = request.args.get("failed") == "1"
    rows, page, pages = page_rows(batch.rows, request.args.get("page", 1, type=int) or 1, only_failed=only_failed)
    return respond("admin/filing_import.html", batch=batch, counts=filings.row_counts(batch), rows=rows,
                   page=page, pages=pages, only_failed=only_failed,
                   status_labels=filings.STATUS_LABELS)


@bp.post("/imports/<id:import_id>/apply")
@requires("manage_registry")
def apply(import_id: int):
    """Write the previewed rows to the registry and check the subjects' open orders again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    target = url_for("filings.show", import_id=import_id)
    try:
        batch = filings.apply(import_id, Actor.for_user(current_user))
    except Invalid as exc:
        return go(target, exc.message, "warning")
    return go(target, f"已写入备案登记 {batch.applied} 条；重新检查了 {batch.rechecked} 个待初审订单")


@bp.get("/imports/<id:import_id>/failures.csv")
@requires("manage_registry")
def failures(import_id: int):
    batch = filings.get_import(import_id)
    return csv_download(filings.failures_csv(batch), f"filings-{import_id}-failures.csv")


@bp.get("/template.csv")
@requires("manage_registry")
def template():
    return csv_download(filings.template_csv(), "filings-template.csv")
