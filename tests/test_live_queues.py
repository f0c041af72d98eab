"""Live queues: a page of a queue has a version (ETag) computed from its rows; a poll that already
shows it gets 304 without rendering, and a claim by someone else changes it."""

from __future__ import annotations

from console.services import orders
from tests.conftest import Browser, actor
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
