"""The rejection-reason catalogue in force: defaults plus supervisors' additions and changes."""

from __future__ import annotations

from sqlalchemy import select

from console.domain.reasons import DEFAULT_REASONS, SYSTEM_REASONS
from console.extensions import db
from console.models import RejectionReason


def catalogue(*, include_retired: bool = False) -> dict[str, str]:
    """code -> label, defaults first, in a stable order."""
    reasons = dict(DEFAULT_REASONS)
    retired = set()
    for row in db.session.scalars(select(RejectionReason).order_by(RejectionReason.code)):
        reasons[row.code] = row.label
        if not row.active:
            retired.add(row.code)
    if not include_retired:
        reasons = {k: v for k, v in reasons.items() if k not in retired}
    return reasons


def labels(codes: list[str]) -> list[str]:
    known = {**SYSTEM_REASONS, **catalogue(include_retired=True)}
    return [known.get(code, code) for code in codes]
