"""Values a web process reads often and may reuse for a few seconds (settings, the staff list).

Kept per app in ``app.extensions``: a change made through the services forgets the value in the
process that made it at once; other processes (gunicorn's other workers, the CLI, the jobs
process) see it when their copy expires. Outside a request nothing is kept: jobs read afresh."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, has_request_context

T = TypeVar("T")


def kept(name: str, seconds: float, load: Callable[[], T]) -> T:
    """``load()``, reused by this process for ``seconds`` (in requests only)."""
    if not has_request_context():
        return load()
    entry = current_app.extensions.get(name)
    if entry is None or entry[0] < time.monotonic():
        entry = current_app.extensions[name] = (time.monotonic() + seconds, load())
    return entry[1]


def forget(name: str) -> None:
    """Read it again next time (after a change)."""
    current_app.extensions.pop(name, None)
