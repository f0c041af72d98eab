"""Who works in the console: roles, what each may do, and the rule for user names.

Every layer uses these: the decorators in ``console.auth``, the services' authorisation, the
admin form, ``icp-console users create`` and the templates.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Role(StrEnum):
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {Role.SPECIALIST: "审核专员", Role.SUPERVISOR: "主管", Role.ADMIN: "管理员"}
#: People who work orders (claim, decide). Admins act as supervisors would.
STAFF_ROLES: frozenset[Role] = frozenset(Role)
#: People who act on any order, not only on those assigned to them.
SUPERVISING_ROLES: frozenset[Role] = frozenset({Role.SUPERVISOR, Role.ADMIN})

#: What each role may do, as named rules. Admins manage people and tokens; supervisors act on
#: any order and keep the rules; specialists work the orders assigned to them.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "work_orders": STAFF_ROLES,
    "supervise": SUPERVISING_ROLES,
    "keep_rules": SUPERVISING_ROLES,
    "manage_users": frozenset({Role.ADMIN}),
    "manage_registry": frozenset({Role.ADMIN}),  # the registry of filings made before the console
}


def is_role(value: object) -> bool:
    return isinstance(value, str) and value in Role.__members__.values()


def role_label(value: str) -> str:
    return Role(value).label if is_role(value) else value


USERNAME_RE = re.compile(r"^[A-Za-z0-9_.]{1,64}$")
USERNAME_RULE = "用户名必填，只能包含英文字母、数字、_ 和 .，最长 64 位"


def username_problem(username: str) -> str | None:
    """Why ``username`` cannot be a user name, or None. ASCII only: it is typed at every sign-in."""
    return None if USERNAME_RE.fullmatch(username or "") else USERNAME_RULE


#: A user's choice of where a decision leads, in the order the workspace offers them.
AFTER_DECISION: dict[str, str] = {"next": "打开下一单", "queue": "回到队列", "stay": "留在本单"}
