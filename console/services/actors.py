"""Who is acting: a signed-in user, the applicant portal (by token), or the system."""

from __future__ import annotations

from dataclasses import dataclass

from console.domain.roles import SUPERVISING_ROLES


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str
    role: str  # specialist | supervisor | admin | portal | system

    @classmethod
    def for_user(cls, user) -> Actor:
        return cls(user.id, user.display_name or user.username, user.role)

    @classmethod
    def portal(cls, token_name: str) -> Actor:
        return cls(None, f"portal:{token_name}", "portal")

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(None, what, "system")

    @property
    def is_supervisor(self) -> bool:
        return self.role in SUPERVISING_ROLES
