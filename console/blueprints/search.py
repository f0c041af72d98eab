"""Global search (key ``/``): any order in any state."""

from __future__ import annotations

from flask import Blueprint, request

from console.auth import requires
from console.domain.workflow import QUEUE_OF
from console.forms.search import SearchForm
from console.responses import respond
from console.services import search as search_service

bp = Blueprint("search", __name__)


@bp.get("/search")
@requires("work_orders")
def search():
    """Orders in every state by order number, names, certificate / ID number, domain, filing number,
    phone or e-mail; the top bar's box asks for the results fragment as one types."""
    form = SearchForm(formdata=request.args)
    problem = None
    if form.q.data and not form.validate():
        problem = form.q.errors[0]
        result = search_service.search("")
    else:
        result = search_service.search(form.q.data or "")
    return respond("search/page.html", "search/_results.html", form=form, result=result, problem=problem,
                   open_states=QUEUE_OF)
