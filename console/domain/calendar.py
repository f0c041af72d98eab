"""Chinese working days, counted the usual way (次日起算), and stage deadlines.

A day is a working day when the State Council's calendar says so: weekends are off except
make-up days (调休上班), statutory holidays are off. ``chinese-calendar`` carries the official
schedule for the years it has published; for any other year we estimate (weekends and the
fixed-date statutory holidays off) and say so, until a supervisor enters that year's official
schedule as overrides and marks the year official. Overrides always win.

Nothing here may raise for a date in an unknown year: the calendar must never be the reason a
page or a job fails.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Statutory holidays that fall on the same Gregorian date every year (元旦, 劳动节, 国庆节).
#: The lunar holidays (春节, 清明, 端午, 中秋) cannot be estimated without the official schedule.
FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
)

#: A stage may not run for longer than this many calendar days per working day asked for;
#: guards the day-by-day walk against an override table that marks everything as off.
_MAX_DAYS_PER_WORKING_DAY = 30


@lru_cache(maxsize=1)
def _package_years() -> frozenset[int]:
    """The years whose official schedule ``chinese-calendar`` carries (it raises for the others)."""
    return frozenset(d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays))


def package_has_year(year: int) -> bool:
    """Whether ``chinese-calendar`` carries the official schedule for ``year``."""
    return year in _package_years()


def _weekday_rule(day: date, *, fixed_holidays: bool) -> bool:
    if fixed_holidays and (day.month, day.day) in FIXED_HOLIDAYS:
        return False
    return day.weekday() < 5


@dataclass(frozen=True)
class Deadline:
    """When a stage is due (UTC), and whether an estimated calendar year went into it."""

    at: datetime
    estimated: bool


class WorkingCalendar:
    """The official calendar, with supervisors' overrides taking precedence."""

    def __init__(self, overrides: Mapping[date, bool] | None = None, official_years: Iterable[int] = ()):
        self._overrides = dict(overrides or {})
        self._official_years = frozenset(official_years)
        self._days: dict[date, tuple[bool, bool]] = {}  # memo: pages ask about the same days again

    def is_official_year(self, year: int) -> bool:
        return year in self._official_years or package_has_year(year)

    def day(self, day: date) -> tuple[bool, bool]:
        """(is a working day, was estimated) for one date."""
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._lookup(day)
        return known

    def _lookup(self, day: date) -> tuple[bool, bool]:
        if day in self._overrides:
            return self._overrides[day], False
        if package_has_year(day.year):
            return chinese_calendar.is_workday(day), False
        if day.year in self._official_years:
            # A year entered by a supervisor: the overrides carry its holidays and make-up days.
            return _weekday_rule(day, fixed_holidays=False), False
        return _weekday_rule(day, fixed_holidays=True), True

    def is_workday(self, day: date) -> bool:
        return self.day(day)[0]

    def add_working_days(self, start: date, n: int) -> tuple[date, bool]:
        """The n-th working day after ``start`` (``start`` itself never counts)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        estimated = False
        current = start
        counted = 0
        for _ in range(n * _MAX_DAYS_PER_WORKING_DAY):
            current += timedelta(days=1)
            working, guessed = self.day(current)
            estimated |= guessed
            if working:
                counted += 1
                if counted == n:
                    return current, estimated
        # An override table with no working day for months: fall back to calendar days.
        log.error("no %s working days found after %s; using calendar days", n, start)
        return start + timedelta(days=n), True

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            count += self.is_workday(current)
        return count

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """``start`` plus ``hours`` of time that falls on working days (whole days, Asia/Shanghai)."""
        remaining = timedelta(hours=hours)
        moment = to_local(start)
        for _ in range(366 * 2):
            midnight = datetime.combine(moment.date() + timedelta(days=1), time(0), tzinfo=SHANGHAI)
            if self.is_workday(moment.date()):
                available = midnight - moment
                if remaining <= available:
                    return (moment + remaining).astimezone(UTC)
                remaining -= available
            moment = midnight
        return (to_local(start) + timedelta(hours=hours)).astimezone(UTC)

    def deadline(self, entered_at: datetime, working_days: int) -> Deadline:
        """End (24:00 Asia/Shanghai) of the n-th working day after the day ``entered_at`` falls on."""
        local_day = to_local(entered_at).date()
        last_day, estimated = self.add_working_days(local_day, working_days)
        end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
        return Deadline(end.astimezone(UTC), estimated)


def to_local(moment: datetime) -> datetime:
    """A UTC (or aware) datetime in Asia/Shanghai; naive values are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI)


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_midnight(day: date) -> datetime:
    """The start of a day in China (Asia/Shanghai), as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


WEEKDAYS = "一二三四五六日"


def deadline_text(moment: datetime | None) -> str:
    """A deadline as reviewers read it: "11-30（周一）24:00 前". Deadlines fall at the end of a working
    day, which in local time is the next day's 00:00; that reads as the wrong day, so it is shown
    as 24:00 of the day it ends."""
    if moment is None:
        return "—"
    # China has kept UTC+8 without daylight saving since 1991: a fixed offset is exact for UTC
    # values and much cheaper than zoneinfo (a queue page formats fifty of these).
    local_moment = (moment.replace(tzinfo=None) + timedelta(hours=8)) if moment.utcoffset() == timedelta(0) \
        else to_local(moment).replace(tzinfo=None)
    if local_moment.hour == 0 and local_moment.minute == 0:
        day = local_moment.date() - timedelta(days=1)
        return f"{day:%m-%d}（周{WEEKDAYS[day.weekday()]}）24:00 前"
    return f"{local_moment:%m-%d}（周{WEEKDAYS[local_moment.weekday()]}）{local_moment:%H:%M} 前"
