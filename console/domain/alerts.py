"""Which alerts an order in a timed stage is owed at a given moment, and when to look again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from console.domain.workflow import State

KIND_LABELS = {
    "due_soon": "即将超时",
    "overdue": "已超时",
    "escalated": "超时升级",
    "sms_expiring": "短信核验即将过期",
    "bureau_overdue": "管局审核超期",
    "reassigned": "转派给我",
    "reassigned_away": "已转派他人",
}


def soon_kind(state: str) -> str:
    return "sms_expiring" if state == State.SMS_VERIFICATION else "due_soon"


def overdue_kind(state: str) -> str | None:
    """None for SMS verification: an expired code returns the order instead of alerting."""
    if state == State.SMS_VERIFICATION:
        return None
    return "bureau_overdue" if state == State.BUREAU_REVIEW else "overdue"


@dataclass(frozen=True)
class Plan:
    kinds: tuple[str, ...]  # alerts to create now
    next_alert_at: datetime | None  # when to look again
    expire_sms: bool = False  # the SMS code ran out: return the order


def plan_alerts(state: str, due_soon_at: datetime | None, due_at: datetime | None, now: datetime, *,
                overdue_alerted_at: datetime | None, overdue_acknowledged: bool,
                escalate_at: Callable[[datetime], datetime]) -> Plan:
    """What the sweep does for one order whose ``next_alert_at`` has come.

    ``overdue_alerted_at``: when this stage's overdue alert was created (None: not yet).
    ``escalate_at``: the moment an overdue alert created at a given time escalates.
    """
    if due_at is None or due_soon_at is None:
        return Plan((), None)
    if now < due_soon_at:
        return Plan((), due_soon_at)
    if now < due_at:
        return Plan((soon_kind(state),), due_at)
    overdue = overdue_kind(state)
    if overdue is None:
        return Plan((), None, expire_sms=True)
    if overdue_alerted_at is None:
        # A sweep that was down past the due date says "overdue" only: a late "due soon" is noise.
        return Plan((overdue,), escalate_at(now))
    if overdue_acknowledged:
        return Plan((), None)
    when = escalate_at(overdue_alerted_at)
    if now >= when:
        return Plan(("escalated",), None)
    return Plan((), when)
