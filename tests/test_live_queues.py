"""Live queues: a page of a queue has a version (ETag) computed from its rows; a poll that already
shows it gets 304 without rendering, and a claim by someone else changes it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import update

from console.extensions import db
from console.models import User
from console.services import orders
from tests.conftest import Browser, actor, make_user
from tests.test_supervisor import submit


def test_a_poll_gets_304_until_someone_else_claims_a_row(app, users):
    nos = [submit(app) for _ in range(3)]
    alice = Browser(app, "alice")
    first = alice.get("/queues/initial-review?province=浙江")
    etag = first.headers["ETag"]
    assert f'data-etag="{etag.replace(chr(34), "&#34;")}"' in first.get_data(as_text=True) or \
        'data-etag="&#34;' in first.get_data(as_text=True)
    poll = {"If-None-Match": etag, "X-Console-Poll": "1"}
    same = alice.get("/queues/initial-review?province=浙江", htmx=True, headers=dict(poll))
    assert same.status_code == 304 and same.get_data() == b""
    with app.app_context():
        orders.claim(nos[1], actor(app, users["bob"]))
    changed = alice.get("/queues/initial-review?province=浙江", htmx=True, headers=dict(poll))
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    html = changed.get_data(as_text=True)
    assert "审核员乙" in html and "<html" not in html
    # another filter is another page, with its own version
    other = alice.get("/queues/initial-review?province=江苏", htmx=True, headers=dict(poll))
    assert other.status_code == 200


def test_the_version_differs_between_viewers_who_see_different_buttons(app, users):
    submit(app)
    alice = Browser(app, "alice").get("/queues/initial-review").headers["ETag"]
    carol = Browser(app, "carol").get("/queues/initial-review").headers["ETag"]
    assert alice != carol


# The row cache (console.rowcache): a row's HTML is reused only while everything it shows is the same.

def _rows(html: str) -> str:
    return html.split("<tbody", 1)[1].split("</tbody>", 1)[0]


def test_cached_rows_are_the_rows_a_fresh_render_makes(app, users):
    for _ in range(3):
        submit(app)
    alice, bob = Browser(app, "alice"), Browser(app, "bob")
    rows, pages = app.extensions["row_cache"], app.extensions["row_page_cache"]
    rows.__init__()  # signing in opened the queue: start counting from empty caches
    pages.__init__(pages.capacity)
    first = _rows(alice.get("/queues/initial-review").get_data(as_text=True))
    assert (len(rows), rows.misses, rows.hits) == (3, 3, 0) and (pages.misses, pages.hits) == (1, 0)
    again = _rows(alice.get("/queues/initial-review").get_data(as_text=True))
    assert (pages.misses, pages.hits) == (1, 1) and rows.hits == 0  # the same page: one look-up
    # another specialist's page is another version, made of the same rows
    bobs = _rows(bob.get("/queues/initial-review").get_data(as_text=True))
    assert pages.misses == 2 and rows.hits == 3
    rows.clear()
    pages.clear()
    app.config["TEMPLATES_AUTO_RELOAD"] = True  # the cache is off where templates may change
    uncached = _rows(alice.get("/queues/initial-review").get_data(as_text=True))
    assert first == again == bobs == uncached and "<!--/row-->" not in first and first.count("<tr ") == 3
    assert len(rows) == 0 and len(pages) == 0


def test_a_change_to_anything_a_row_shows_renders_it_again(app, users):
    no = submit(app)
    alice = Browser(app, "alice")
    alice.get("/queues/initial-review")
    with app.app_context():
        orders.claim(no, actor(app, users["bob"]))
    assert "审核员乙" in _rows(alice.get("/queues/initial-review").get_data(as_text=True))
    # the assignee's name is not the order's: renaming bob changes no order's version
    with app.app_context():
        db.session.execute(update(User).where(User.id == users["bob"]).values(display_name="审核员乙二"))
        db.session.commit()
    assert "审核员乙二" in _rows(alice.get("/queues/initial-review").get_data(as_text=True))


def test_the_clock_is_never_cached(app, users, monkeypatch):
    submit(app)
    alice = Browser(app, "alice")
    assert "剩余" in _rows(alice.get("/queues/initial-review").get_data(as_text=True))

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(days=30)

    monkeypatch.setattr("console.rowcache.datetime", Later)
    later = _rows(alice.get("/queues/initial-review").get_data(as_text=True))
    assert "超时" in later and "剩余" not in later


def test_viewers_share_rows_but_not_buttons(app, users):
    no = submit(app)
    with app.app_context():
        orders.claim(no, actor(app, users["alice"]))
    mine = _rows(Browser(app, "alice").get("/queues/initial-review").get_data(as_text=True))
    others = _rows(Browser(app, "bob").get("/queues/initial-review").get_data(as_text=True))
    supervisor = _rows(Browser(app, "carol").get("/queues/initial-review").get_data(as_text=True))
    assert "放回" in mine and "放回" not in others and "领取</button>" not in others
    assert "放回" in supervisor and 'name="order"' in supervisor and 'name="order"' not in mine


def test_filter_selects_follow_the_selection_and_the_staff(app, users):
    alice = Browser(app, "alice")
    picked = alice.get("/queues/initial-review?province=浙江").get_data(as_text=True)
    assert re.search(r'<option selected value="浙江">', picked)
    plain = alice.get("/queues/initial-review").get_data(as_text=True)
    assert not re.search(r'<option selected value="浙江">', plain) and '<option value="浙江">' in plain
    # a colleague added a moment ago is in the assignee filter at once (the staff list is kept briefly)
    assert "新同事" not in plain
    make_user(app, "erin", "specialist", "新同事")
    assert "新同事" in alice.get("/queues/initial-review").get_data(as_text=True)
