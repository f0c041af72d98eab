"""Who can be chosen in the console's lists: active staff, by name."""

from __future__ import annotations

from sqlalchemy import select

from console.domain.roles import Role
from console.extensions import db
from console.models import User


def staff_choices() -> list[tuple[str, str]]:
    """Every active user as ``(id, name)``, for filters and reassignment targets."""
    users = db.session.execute(
        select(User.id, User.display_name).where(User.active.is_(True)).order_by(User.display_name)).all()
    return [(str(uid), name) for uid, name in users]


def working_staff() -> list[User]:
    """Active specialists and supervisors (the people who carry orders), supervisors last."""
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.role != Role.ADMIN)
                                   .order_by(User.role.desc(), User.display_name)))
