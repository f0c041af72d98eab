"""Rendered queue rows, reused while nothing a row shows has changed.

A queue page spends most of its Python on its rows: 50 rows of 11 cells, every value escaped,
times formatted, tags chosen (issue 14 measured the page at a third of a bare route's throughput,
all of the difference in CPU). Most of those rows are the same from one request to the next: the
head of a queue is what every specialist opens, and what a live poll re-reads.

So each worker process keeps the HTML of the rows it rendered, keyed by **everything the row
shows**: the row's values as the query read them (the order's version among them, and the
assignee's name), its queue's extra figures, the viewer's relation to it (which button it
offers), and its time left as text and tone — computed for every row on every request, so the
clock is never cached. A row whose key is unchanged renders to the same HTML: there is nothing to
invalidate, and a change anywhere in the row is a new key. Old keys fall out, least recently used
first. A row carrying a message (a claim that lost a race) and rows given as ORM objects (the
answer to a claim) are rendered directly.

The misses of a page are rendered in one template call, each row followed by a marker that escaped
values cannot contain, and split.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from threading import Lock

from flask import current_app
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy.engine import Row

from console.templating import time_left

#: After every row of a batch; ``<`` never survives escaping, so no value can contain it.
SEPARATOR = "<!--/row-->"

#: Rows kept per worker process (a row is about 700 bytes of HTML: a few MB at most).
CAPACITY = 5000
#: Whole pages of rows kept per worker process (about 35 KB each).
PAGE_CAPACITY = 64


class RowCache:
    def __init__(self, capacity: int = CAPACITY):
        self.capacity = capacity
        self._rows: OrderedDict[tuple, str] = OrderedDict()
        self._lock = Lock()  # gunicorn threads share a worker's cache
        self.hits = self.misses = 0

    def get_many(self, keys: list[tuple]) -> list[str | None]:
        with self._lock:
            found = []
            for key in keys:
                html = self._rows.get(key)
                if html is not None:
                    self._rows.move_to_end(key)
                found.append(html)
            hit = sum(1 for html in found if html is not None)
            self.hits += hit
            self.misses += len(keys) - hit
            return found

    def put_many(self, items: list[tuple[tuple, str]]) -> None:
        with self._lock:
            for key, html in items:
                self._rows[key] = html
            while len(self._rows) > self.capacity:
                self._rows.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)


def row_cache() -> RowCache | None:
    """This app's cache of rows, or None where templates may change under it (debug, auto-reload)."""
    return _cache("row_cache", CAPACITY)


def _cache(name: str, capacity: int) -> RowCache | None:
    app = current_app._get_current_object()
    if app.debug or app.config.get("TEMPLATES_AUTO_RELOAD"):
        return None
    cache = app.extensions.get(name)
    if cache is None:
        cache = app.extensions.setdefault(name, RowCache(capacity))
    return cache


@pass_context
def queue_rows(context) -> Markup:
    """The rows of ``page`` as HTML: cached where they can be, the rest in one render.

    A page the viewer saw before (same version, the ETag of its live poll, and the same times
    left) is one look-up in a small cache of whole pages of rows; otherwise each row is looked up.
    """
    rows, queue, u = context["page"].rows, context["queue"], context["u"]
    extras, bulk, message = context.get("extras") or {}, bool(context.get("bulk")), context.get("row_message")
    now = datetime.now(UTC)
    times = {row.id: time_left(row.due_at, row.stage_entered_at, now) for row in rows}
    cache = row_cache()
    if cache is None or message or not all(isinstance(row, Row) for row in rows):
        return Markup("".join(_render(rows, times, context).split(SEPARATOR)[:-1]))  # noqa: S704 (autoescaped template output)
    pages, page_key = _cache("row_page_cache", PAGE_CAPACITY), None
    if context.get("etag"):  # the page's version: its viewer, rows and more (queues.page_version)
        page_key = (queue, context["etag"], tuple((t["text"], t["tone"]) for t in times.values()),
                    tuple((k, tuple(sorted(v.items()))) for k, v in extras.items()))
        html = pages.get_many([page_key])[0]
        if html is not None:
            return Markup(html)  # noqa: S704 (autoescaped template output)
    me, supervise = u["me"], u["supervise"]
    keys = []
    for row in rows:
        t, x = times[row.id], extras.get(row.id)
        relation = 0 if row.assignee_id is None else 1 if row.assignee_id == me or supervise else 2
        keys.append((queue, bulk, relation, tuple(row), t["text"], t["tone"],
                     tuple(sorted(x.items())) if x else None))
    found = cache.get_many(keys)
    missing = [i for i, html in enumerate(found) if html is None]
    if missing:
        fresh = _render([rows[i] for i in missing], times, context).split(SEPARATOR)
        cache.put_many([(keys[i], html) for i, html in zip(missing, fresh, strict=False)])
        for i, html in zip(missing, fresh, strict=False):
            found[i] = html
    html = "".join(found)
    if page_key is not None:
        pages.put_many([(page_key, html)])
    return Markup(html)  # noqa: S704 (autoescaped template output)


def _render(rows, times: dict, context) -> str:
    """Rows through ``queues/_row_batch.html``, each followed by the separator (what follows the
    last separator is whitespace, dropped on both paths so that they give the same bytes)."""
    template = current_app.jinja_env.get_template("queues/_row_batch.html")
    return template.render(rows=rows, times=times, separator=Markup(SEPARATOR), queue=context["queue"],  # noqa: S704
                           u=context["u"], extras=context.get("extras") or {}, bulk=context.get("bulk"),
                           row_message=context.get("row_message"))
