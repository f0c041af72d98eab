"""Bytes on the wire: pages compressed when the client accepts it; static files by content hash,
cached for a year."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from tests.conftest import Browser

STATIC = Path(__file__).resolve().parents[1] / "console" / "static"


def test_pages_are_compressed_for_clients_that_accept_it(app, users):
    alice = Browser(app, "alice")
    plain = alice.get("/queues/initial-review")
    packed = alice.get("/queues/initial-review", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    html = gzip.decompress(packed.get_data()).decode()
    assert "初审" in html and len(packed.get_data()) < len(plain.get_data()) / 2


def test_static_urls_carry_the_content_hash_and_are_cached_for_a_year(app, users):
    page = Browser(app, "alice").get("/queues/initial-review").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert len(urls) >= 4
    client = app.test_client()
    for url in urls:
        path, version = re.match(r"/static/([^?]+)\?v=([0-9a-f]{16})$", url.replace("&amp;", "&")).groups()
        assert version == hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:16]
        response = client.get(url)
        assert response.status_code == 200
        cache = response.headers["Cache-Control"]
        assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache, cache


def test_a_static_file_without_or_with_an_old_hash_is_revalidated(app):
    client = app.test_client()
    for url in ("/static/css/console.css", "/static/css/console.css?v=0000000000000000"):
        response = client.get(url)
        assert response.status_code == 200 and "immutable" not in response.headers.get("Cache-Control", "")
