"""The security audit log (sign-ins, refusals, roles, tokens). Called inside a transaction."""

from __future__ import annotations

from console.domain.calendar import utcnow
from console.extensions import db
from console.models import AuditEntry


def audit(action: str, *, actor_id: int | None = None, target: str = "", address: str = "",
          detail: dict | None = None) -> None:
    db.session.add(AuditEntry(at=utcnow(), actor_id=actor_id, action=action, target=target[:200],
                              address=address[:64], detail=detail or {}))
