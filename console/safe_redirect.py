"""``next`` parameters that stay on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a local path (``/queues/…``), else ``default``.

    Refused: absolute URLs, scheme-relative ``//host``, ``/\\host`` (browsers read a backslash as a
    slash), control characters, ``javascript:`` and anything that does not start with one ``/``.
    """
    if not target or not isinstance(target, str) or len(target) > 2000:
        return default
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
