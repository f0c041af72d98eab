"""The boundary rule for text and numbers from outside: what every form and the API refuse.

PostgreSQL cannot store NUL in text, and no reviewer ever means to type a control character;
a value carrying one is refused with a field message, never passed on to a query.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

#: Control characters other than tab, line feed and carriage return (and DEL).
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "不能包含控制字符（如 NUL）"
#: Integers stored as PostgreSQL ``integer``: ids, sizes, versions.
MAX_INT = 2**31 - 1
#: Moments the console accepts from outside (submission and verification times).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
#: How deeply a JSON body may nest (the order body needs three levels).
MAX_JSON_DEPTH = 12


def has_control(value: str) -> bool:
    return bool(CONTROL_RE.search(value))


def first_control_path(value, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """The first problem in a JSON value: (path, message) for a control character or deep nesting."""
    if depth > MAX_JSON_DEPTH:
        return path, f"嵌套不能超过 {MAX_JSON_DEPTH} 层"
    if isinstance(value, str):
        return (path, CONTROL_MESSAGE) if has_control(value) else None
    if isinstance(value, dict):
        items = ((f"{path}.{k}" if path else str(k), k, v) for k, v in value.items())
        for child, key, item in items:
            if has_control(key):
                return child, CONTROL_MESSAGE
            found = first_control_path(item, child, depth + 1)
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = first_control_path(item, f"{path}[{i}]", depth + 1)
            if found:
                return found
    return None


def moment_problem(moment: datetime) -> str | None:
    """Why an aware moment is not one the console accepts, or None."""
    try:
        inside = EARLIEST <= moment.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):
        inside = False
    return None if inside else "时间须在 2000 年至 2099 年之间"
