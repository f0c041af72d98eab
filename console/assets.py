"""Static files by content: ``url_for('static', …)`` carries the file's hash (``?v=``), and a
request with the current hash is cached for a year (``immutable``), so a repeat page load asks for
nothing but the page. A changed file gets a new hash, hence a new URL."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, request

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or "")

    @lru_cache(maxsize=256)
    def fingerprint(filename: str) -> str:
        try:
            return hashlib.sha256((folder / filename).read_bytes()).hexdigest()[:16]
        except OSError:
            return ""

    @app.url_defaults
    def add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = fingerprint(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_fingerprinted(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            version = request.args.get("v", "")
            filename = (request.view_args or {}).get("filename", "")
            if version and version == fingerprint(filename):
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response
