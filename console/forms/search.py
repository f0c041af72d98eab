"""The global search box (GET, no CSRF)."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import Length, Optional

from console.forms import Form
from console.services.search import MAX_QUERY


class SearchForm(Form):
    """Bound to ``request.args``; a refused query (control characters, too long) searches nothing."""

    class Meta:
        csrf = False

    q = StringField("搜索", validators=[Optional(), Length(max=MAX_QUERY)])
