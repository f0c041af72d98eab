"""Roles applied as decorators, and the public-endpoint marker (the rules are in the domain)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from console.domain.roles import PERMISSIONS


def can(rule: str, user=None) -> bool:
    user = user if user is not None else current_user
    return bool(getattr(user, "is_authenticated", False)) and user.role in PERMISSIONS[rule]


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
