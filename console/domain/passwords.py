"""Password policy (NIST 800-63B style): length 12 to 128, no composition rules, no common ones."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

MIN_LENGTH, MAX_LENGTH = 12, 128


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    text = resources.files("console").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why a password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 个字符"
    lowered = password.lower()
    if lowered in _common() or len(set(lowered)) <= 2:
        return "这个密码太常见，请换一个"
    if username and username.lower() in lowered:
        return "密码不能包含用户名"
    return None
