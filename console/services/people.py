"""Who can be chosen in the console's lists: active staff, by name."""

from __future__ import annotations

import time

from flask import current_app, has_request_context
from sqlalchemy import select

from console.domain.roles import Role
from console.extensions import db
from console.models import User

#: How long a web process reuses the staff list it read: the queue filters show it on every page
#: load. A change made through console.services.accounts empties this process's copy at once;
#: other processes (gunicorn's other workers, the CLI) see it within this many seconds.
STAFF_TTL_SECONDS = 10.0


def staff_choices() -> list[tuple[str, str]]:
    """Every active user as ``(id, name)``, for filters and reassignment targets."""
    if has_request_context():
        kept = current_app.extensions.get("staff_choices")
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
    users = db.session.execute(
        select(User.id, User.display_name).where(User.active.is_(True)).order_by(User.display_name)).all()
    choices = [(str(uid), name) for uid, name in users]
    if has_request_context():
        current_app.extensions["staff_choices"] = (time.monotonic() + STAFF_TTL_SECONDS, choices)
    return choices


def forget_staff() -> None:
    """After a change to who is active or what they are called: read the list again."""
    current_app.extensions.pop("staff_choices", None)


def working_staff() -> list[User]:
    """Active specialists and supervisors (the people who carry orders), supervisors last."""
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.role != Role.ADMIN)
                                   .order_by(User.role.desc(), User.display_name)))
