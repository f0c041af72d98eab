"""Expected time of each stage (SLA), and the due date an order carries while in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from console.domain.calendar import Deadline, WorkingCalendar
from console.domain.provinces import ProvinceRule
from console.domain.workflow import State


class Unit(StrEnum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"

    @property
    def label(self) -> str:
        return {"working_days": "个工作日", "hours": "小时"}[self.value]


@dataclass(frozen=True)
class StageLimit:
    limit: int
    unit: Unit


DEFAULT_LIMITS: dict[State, StageLimit] = {
    State.INITIAL_REVIEW: StageLimit(1, Unit.WORKING_DAYS),  # seed: 初审 within 1 working day
    State.AWAITING_MAIL: StageLimit(10, Unit.WORKING_DAYS),
    State.MAIL_CHECK: StageLimit(1, Unit.WORKING_DAYS),
    State.SMS_VERIFICATION: StageLimit(24, Unit.HOURS),  # MIIT code validity
    State.BUREAU_REVIEW: StageLimit(20, Unit.WORKING_DAYS),  # seed: 3 to 20 working days
}
#: The bureau is not expected to answer before this many working days.
BUREAU_EARLIEST_WORKING_DAYS = 3
#: An order is "due soon" in the last fifth of its stage's time.
DUE_SOON_FRACTION = 0.2


def stage_limit(state: State, limits: dict[State, StageLimit], province: ProvinceRule | None) -> StageLimit | None:
    """The limit that applies to an order of this province in this state (None: untimed)."""
    base = limits.get(state) or DEFAULT_LIMITS.get(state)
    if base is None:
        return None
    if state is State.BUREAU_REVIEW and province is not None and province.bureau_limit_days:
        return StageLimit(province.bureau_limit_days, Unit.WORKING_DAYS)
    return base


def due(entered_at: datetime, limit: StageLimit, calendar: WorkingCalendar) -> Deadline:
    """When a stage entered at ``entered_at`` is due under ``limit``."""
    if limit.unit is Unit.HOURS:
        return Deadline(entered_at + timedelta(hours=limit.limit), False)
    return calendar.deadline(entered_at, limit.limit)


def due_soon_from(entered_at: datetime, due_at: datetime) -> datetime:
    """The moment an order enters the last fifth of its stage's time."""
    return due_at - (due_at - entered_at) * DUE_SOON_FRACTION
