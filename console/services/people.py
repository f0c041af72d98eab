"""Who can be chosen in the console's lists: active staff, by name."""

from __future__ import annotations

from sqlalchemy import select

from console.domain.roles import Role
from console.extensions import db
from console.models import User
from console.services.kept import forget, kept

#: How long a web process reuses the staff list it read (console.services.kept): the queue
#: filters show it on every page load; console.services.accounts forgets it on every change.
STAFF_TTL_SECONDS = 10.0


def staff_choices() -> list[tuple[str, str]]:
    """Every active user as ``(id, name)``, for filters and reassignment targets."""
    return kept("staff_choices", STAFF_TTL_SECONDS, _read_staff)


def _read_staff() -> list[tuple[str, str]]:
    users = db.session.execute(
        select(User.id, User.display_name).where(User.active.is_(True)).order_by(User.display_name)).all()
    return [(str(uid), name) for uid, name in users]


def forget_staff() -> None:
    """After someone is added, changes role or is (de)activated: read the list again."""
    forget("staff_choices")


def working_staff() -> list[User]:
    """Active specialists and supervisors (the people who carry orders), supervisors last."""
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.role != Role.ADMIN)
                                   .order_by(User.role.desc(), User.display_name)))
