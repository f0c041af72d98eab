"""Roles as named rules applied with decorators, and the public-endpoint marker."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import current_user


class Role(StrEnum):
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"specialist": "审核专员", "supervisor": "主管", "admin": "管理员"}[self.value]


#: What each role may do, as named rules. Admins manage people and tokens; supervisors act on
#: any order and keep the rules; specialists work the orders assigned to them.
RULES: dict[str, frozenset[Role]] = {
    "work_orders": frozenset({Role.SPECIALIST, Role.SUPERVISOR, Role.ADMIN}),
    "supervise": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "keep_rules": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "manage_users": frozenset({Role.ADMIN}),
}


def can(rule: str, user=None) -> bool:
    user = user if user is not None else current_user
    return bool(getattr(user, "is_authenticated", False)) and user.role in RULES[rule]


def requires(rule: str) -> Callable:
    """Refuse the view with 403 unless the signed-in user's role satisfies ``rule``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not can(rule):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_rule = rule  # type: ignore[attr-defined]
        return wrapped

    return decorate


def public(view: Callable) -> Callable:
    """Mark a view as reachable without signing in (everything else requires it)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view
