"""Vendored files are exactly the pinned ones, and the page loads the pinned htmx."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "console" / "static"
VENDOR = STATIC / "vendor" / "htmx"


def _pinned() -> dict[str, str]:
    """``{file: sha256}`` from the table in VERSION.md."""
    table = (VENDOR / "VERSION.md").read_text()
    return dict(re.findall(r"^\| `([^`]+)` \| [^|]+ \| [^|]+ \| `([0-9a-f]{64})` \|$", table, re.MULTILINE))


def test_vendored_htmx_matches_its_recorded_checksum():
    pinned = _pinned()
    assert pinned, "VERSION.md lists no file with a checksum"
    for name, digest in pinned.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_every_vendored_script_is_pinned():
    assert {p.name for p in VENDOR.glob("*.js")} == set(_pinned())


def test_the_base_template_loads_the_pinned_file(app, users):
    from tests.conftest import Browser

    page = Browser(app, "alice").get("/queues/initial-review").get_data(as_text=True)
    (name,) = _pinned()
    assert f"vendor/htmx/{name}" in page
