"""Working days and deadlines, with DOMAIN.md's worked examples."""

from datetime import UTC, date, datetime, timedelta

import pytest

from console.domain.calendar import SHANGHAI, WorkingCalendar, package_has_year
from console.domain.provinces import PROVINCES
from console.domain.sla import DEFAULT_LIMITS, StageLimit, Unit, due, due_soon_from, stage_limit
from console.domain.workflow import State


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def end_of(day: str) -> datetime:
    """24:00 Asia/Shanghai at the end of ``day``, in UTC."""
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI).astimezone(UTC) + timedelta(days=1)


@pytest.mark.parametrize(
    ("entered", "n", "deadline_day", "why"),
    [
        ("2026-09-30 15:00", 1, "2026-10-08", "10-01 … 10-07 are the National Day holiday"),
        ("2026-09-19 10:00", 1, "2026-09-20", "09-20 is a make-up working day"),
        ("2026-10-09 16:00", 1, "2026-10-10", "10-10 is a make-up working day"),
        ("2026-09-24 11:00", 20, "2026-10-29", "20 working days across National Day"),
        ("2026-02-12 09:00", 20, "2026-03-18", "Spring Festival 02-15 … 02-23"),
    ],
)
def test_worked_examples_from_domain_md(entered, n, deadline_day, why):
    deadline = WorkingCalendar().deadline(local(entered), n)
    assert deadline.at == end_of(deadline_day), why
    assert deadline.estimated is False


def test_the_entry_day_never_counts_even_when_it_is_a_working_day():
    # Monday 09:00 → due end of Tuesday.
    assert WorkingCalendar().deadline(local("2026-11-23 09:00"), 1).at == end_of("2026-11-24")


def test_late_evening_utc_that_is_already_the_next_day_in_shanghai():
    # 2026-11-23 17:30 UTC is Tuesday 01:30 in Shanghai: Tuesday is the entry day.
    entered = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
    assert WorkingCalendar().deadline(entered, 1).at == end_of("2026-11-25")


def test_overrides_take_precedence_over_the_official_calendar():
    cal = WorkingCalendar({date(2026, 11, 24): False, date(2026, 11, 28): True})
    assert cal.is_workday(date(2026, 11, 24)) is False  # an official working Tuesday, overridden off
    assert cal.is_workday(date(2026, 11, 28)) is True  # a Saturday, overridden on
    assert cal.deadline(local("2026-11-23 09:00"), 1).at == end_of("2026-11-25")


def test_a_year_the_package_does_not_carry_is_estimated_not_an_error():
    assert package_has_year(2026) and not package_has_year(2027)
    cal = WorkingCalendar()
    deadline = cal.deadline(local("2026-12-24 10:00"), 20)
    # Weekends and 2027-01-01 (fixed-date holiday) off: 12-25, 28-31 (5), 01-04..08 (10), 11-15 (15), 18-22 (20).
    assert deadline.at == end_of("2027-01-22")
    assert deadline.estimated is True


def test_a_window_inside_a_carried_year_is_not_estimated():
    assert WorkingCalendar().deadline(local("2026-12-01 10:00"), 5).estimated is False


def test_entering_a_years_official_schedule_replaces_the_estimate():
    # A supervisor enters 2027: 01-01 off and a make-up working Sunday 01-03, and marks it official.
    cal = WorkingCalendar({date(2027, 1, 1): False, date(2027, 1, 3): True}, official_years={2027})
    deadline = cal.deadline(local("2026-12-31 10:00"), 1)
    assert deadline.at == end_of("2027-01-03")
    assert deadline.estimated is False


def test_fixed_date_holidays_are_off_in_estimated_years():
    cal = WorkingCalendar()
    assert cal.day(date(2027, 10, 1)) == (False, True)
    assert cal.day(date(2027, 5, 3)) == (True, True)  # Monday, not a fixed-date holiday


def test_an_override_table_without_working_days_does_not_hang_or_raise():
    off = {date(2027, 1, 1) + timedelta(days=i): False for i in range(400)}
    day, estimated = WorkingCalendar(off).add_working_days(date(2026, 12, 31), 1)
    assert estimated is True and day == date(2027, 1, 1)


def test_working_days_between_counts_after_the_start_day():
    cal = WorkingCalendar()
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert cal.working_days_between(date(2026, 10, 8), date(2026, 10, 8)) == 0


def test_hour_limits_are_plain_elapsed_time():
    entered = local("2026-09-30 15:00")  # the eve of National Day: holidays do not matter
    deadline = due(entered, DEFAULT_LIMITS[State.SMS_VERIFICATION], WorkingCalendar())
    assert (deadline.at - entered).total_seconds() == 24 * 3600


def test_bureau_limit_follows_the_province_rule():
    limits = dict(DEFAULT_LIMITS)
    assert stage_limit(State.BUREAU_REVIEW, limits, PROVINCES["浙江"]) == StageLimit(30, Unit.WORKING_DAYS)
    assert stage_limit(State.BUREAU_REVIEW, limits, PROVINCES["北京"]) == StageLimit(20, Unit.WORKING_DAYS)
    assert stage_limit(State.RETURNED, limits, PROVINCES["北京"]) is None


def test_due_soon_is_the_last_fifth_of_the_stage():
    entered = datetime(2026, 11, 2, tzinfo=UTC)
    soon = due_soon_from(entered, entered + timedelta(hours=10))
    assert soon == entered + timedelta(hours=8)
