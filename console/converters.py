"""URL converters that refuse what cannot name a row: a malformed order number or an id beyond
the database's integer range answers 404 before any query runs."""

from __future__ import annotations

from werkzeug.routing import BaseConverter, IntegerConverter

from console.domain.order_body import ORDER_NO_RE
from console.domain.text import MAX_INT


class OrderNoConverter(BaseConverter):
    """``<order_no:order_no>``: letters, digits, ``-`` and ``_``, at most 40 (as the portal's body)."""

    regex = ORDER_NO_RE.pattern.removeprefix("^").removesuffix("$")


class IdConverter(IntegerConverter):
    """``<id:name>``: a positive integer that fits a PostgreSQL ``integer``."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_INT)


CONVERTERS = {"order_no": OrderNoConverter, "id": IdConverter}
