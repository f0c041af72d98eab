"""The one web idiom: how a view answers a browser and htmx alike.

``request.htmx`` (htmx-flask) tells what asked; these helpers are the only code that reads or
writes ``HX-*`` headers:

* ``respond(page, fragment)``: the full page for a normal request, the fragment it includes for
  an htmx one (but the page for a history restore or a boosted link); ``Vary: HX-Request``.
* ``partial(template)``: a fragment only (a side panel, a row, a badge), with optional
  ``HX-Trigger`` / ``HX-Retarget`` / ``HX-Reswap``.
* ``go(url)``: after a change, to another page: ``HX-Redirect`` for htmx, 302 for a form post.
* ``refresh()``: htmx reloads the page; a browser is sent back to ``url``.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template
from htmx_flask import make_response as hx_response
from htmx_flask import request


def wants_fragment() -> bool:
    """htmx asks for a fragment, except when it restores history or follows a boosted link."""
    return bool(request.htmx) and not request.htmx.history_restore_request and not request.htmx.boosted


def is_htmx() -> bool:
    """Any htmx request (fragment or not): it expects HX-* answers instead of redirects."""
    return bool(request.htmx)


def current_url() -> str:
    """The page an htmx request was made from ('' for a normal request)."""
    return request.htmx.current_url or ""


def _vary(response):
    response.vary.add("HX-Request")
    return response


def respond(page: str, fragment: str | None = None, /, *, status: int = 200, headers: dict | None = None,
            trigger: str | dict | None = None, retarget: str | None = None, reswap: str | None = None,
            **context):
    """``page`` for a normal request, ``fragment`` (default: ``page``) for an htmx one."""
    template = fragment if fragment is not None and wants_fragment() else page
    response = hx_response(render_template(template, **context), status, headers or {}, trigger=trigger,
                           retarget=retarget, reswap=reswap)
    return _vary(response)


def partial(template: str, /, *, status: int = 200, trigger: str | dict | None = None,
            retarget: str | None = None, reswap: str | None = None, **context):
    """A fragment, whoever asked."""
    return _vary(hx_response(render_template(template, **context), status, trigger=trigger,
                             retarget=retarget, reswap=reswap))


def go(target: str, message: str | None = None, category: str = "success"):
    """To ``target`` after a change (with an optional flash): HX-Redirect for htmx, 302 otherwise."""
    if message:
        flash(message, category)
    if is_htmx():
        return hx_response("", 204, redirect=target)
    return redirect(target)


def refresh(target: str):
    """htmx reloads the current page; a browser goes to ``target``."""
    if is_htmx():
        return hx_response("", 204, refresh=True)
    return redirect(target)


def unauthorised(body: str, status: int, login_url: str):
    """A signed-out htmx request: the login page replaces the whole page, not a fragment."""
    return _vary(hx_response(body, status, redirect=login_url))


def csv_download(data: bytes, filename: str) -> Response:
    """A CSV file (already encoded, see console.services.csvout) offered as a download."""
    return Response(data, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={filename}"})
