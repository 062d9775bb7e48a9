"""Deadlines on the Asia/Shanghai work calendar: holidays, make-up workdays, urgent cases."""

from __future__ import annotations

import random
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from onegrid.cases.deadlines import (
    TIME_ZONE,
    CalendarCoverageWarning,
    TimeLimit,
    WorkCalendar,
)

HOUR = timedelta(hours=1)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar.load()


def local(text: str) -> datetime:
    """A wall-clock time in Asia/Shanghai, aware."""
    return datetime.fromisoformat(text).replace(tzinfo=TIME_ZONE)


def due(calendar: WorkCalendar, start: str, limit: str, urgent: bool = False) -> datetime:
    return calendar.due(local(start), TimeLimit.parse(limit), urgent=urgent)


# --- the calendar data -------------------------------------------------------------------


def test_packaged_calendar_covers_2024_to_2026(calendar):
    assert (calendar.first_year, calendar.last_year) == (2024, 2026)


@pytest.mark.parametrize("year,working_days", [(2024, 251), (2025, 248), (2026, 248)])
def test_working_days_per_year_match_the_official_counts(calendar, year, working_days):
    # 2024: 366 days - 104 weekend days - 11 public holidays; from 2025 there are 13.
    start, end = local(f"{year}-01-01T00:00"), local(f"{year + 1}-01-01T00:00")
    assert calendar.working_time(start, end) == working_days * calendar.day_length()


@pytest.mark.parametrize(
    "day,working",
    [
        ("2024-02-04", True),  # Sunday, make-up workday for 春节
        ("2024-02-09", True),  # 除夕 2024 was not an official day off
        ("2024-02-12", False),
        ("2024-06-10", False),  # 端午 Monday
        ("2025-01-26", True),  # Sunday, make-up workday for 春节
        ("2025-02-08", True),
        ("2025-10-08", False),  # 国庆 + 中秋 2025, eight days
        ("2026-01-02", False),
        ("2026-01-04", True),  # Sunday, make-up workday for 元旦
        ("2026-02-23", False),
        ("2026-09-20", True),
        ("2026-10-10", True),  # Saturday, make-up workday for 国庆
        ("2026-10-12", True),
        ("2026-10-17", False),  # an ordinary Saturday
    ],
)
def test_holidays_and_make_up_workdays(calendar, day, working):
    assert calendar.is_working_day(date.fromisoformat(day)) is working


def test_default_day_is_seven_and_a_half_hours(calendar):
    assert calendar.day_length() == timedelta(hours=7, minutes=30)


# --- working-time deadlines --------------------------------------------------------------


def test_one_working_day_from_friday_afternoon_is_monday_afternoon(calendar):
    assert due(calendar, "2024-05-31T16:00", "1wd") == local("2024-06-03T16:00")


def test_report_at_0730_monday_is_due_at_close_because_the_clock_starts_at_0830(calendar):
    assert due(calendar, "2024-06-03T07:30", "1wd") == local("2024-06-03T17:30")


def test_limit_running_out_at_the_end_of_a_period_gives_that_end_not_the_next_start(calendar):
    assert due(calendar, "2024-05-31T17:30", "1wd") == local("2024-06-03T17:30")
    assert due(calendar, "2024-06-03T11:00", "60min") == local("2024-06-03T12:00")
    assert due(calendar, "2024-06-03T08:30", "1wd") == local("2024-06-03T17:30")


def test_lunch_break_does_not_count(calendar):
    assert due(calendar, "2024-06-03T11:30", "1h") == local("2024-06-03T14:00")
    assert due(calendar, "2024-06-03T12:15", "30min") == local("2024-06-03T14:00")
    noon = calendar.working_time(local("2024-06-03T11:00"), local("2024-06-03T14:00"))
    assert noon == 1.5 * HOUR


def test_evening_report_starts_counting_next_working_morning(calendar):
    assert due(calendar, "2024-06-03T20:00", "6h") == local("2024-06-04T16:00")


def test_span_across_national_day_2026_counts_make_up_saturday_oct_10(calendar):
    # Sep 30 (Wed) 1.5 h, Oct 1-7 off, Oct 8 and 9 full, Oct 10 (Sat) is a working day.
    assert due(calendar, "2026-09-30T16:00", "3wd") == local("2026-10-10T16:00")
    weekend = calendar.working_time(local("2026-10-09T17:30"), local("2026-10-12T08:30"))
    assert weekend == calendar.day_length()


def test_span_across_spring_festival_2025_counts_make_up_sunday_jan_26(calendar):
    assert due(calendar, "2025-01-24T16:00", "1wd") == local("2025-01-26T16:00")
    # Jan 28 - Feb 4 off: Monday Jan 27's report is due the Wednesday after the holiday.
    assert due(calendar, "2025-01-27T16:00", "1wd") == local("2025-02-05T16:00")


def test_thirty_working_days_skip_weekends_and_spring_festival_2024(calendar):
    # Jan 1 is 元旦; Sunday Feb 4 is a make-up workday; the 30th working day is Feb 9.
    assert due(calendar, "2024-01-01T00:00", "30wd") == local("2024-02-09T17:30")


def test_due_is_plus_eight_exactly_never_lmt(calendar):
    start = datetime(2024, 5, 28, 1, 0, tzinfo=UTC)
    for limit in ("30min", "6h", "1wd", "1cd"):
        for urgent in (False, True):
            result = calendar.due(start, TimeLimit.parse(limit), urgent=urgent)
            assert result.tzinfo is TIME_ZONE
            assert result.utcoffset() == timedelta(hours=8)


def test_input_in_utc_is_counted_in_shanghai_local_time(calendar):
    # 00:30Z is 08:30 in Shanghai: 1 h of work ends at 09:30 local.
    result = calendar.due(datetime(2024, 6, 3, 0, 30, tzinfo=UTC), TimeLimit.parse("1h"))
    assert result == local("2024-06-03T09:30")


def test_naive_datetimes_are_refused(calendar):
    naive = datetime(2024, 6, 3, 9, 0)
    with pytest.raises(ValueError, match="no time zone"):
        calendar.due(naive, TimeLimit.parse("1h"))
    with pytest.raises(ValueError, match="no time zone"):
        calendar.working_time(local("2024-06-03T09:00"), naive)
    with pytest.raises(ValueError, match="no time zone"):
        calendar.elapsed(naive, local("2024-06-03T09:00"), urgent=True)


def test_working_time_is_negative_when_end_precedes_start(calendar):
    start, end = local("2024-06-03T09:00"), local("2024-06-04T09:00")
    assert calendar.working_time(end, start) == -calendar.working_time(start, end)
    assert calendar.working_time(start, end) == calendar.day_length()


def test_working_time_and_add_working_time_are_inverses_on_random_instants(calendar):
    rng = random.Random(20240528)
    origin = local("2024-01-01T00:00")
    two_years = 2 * 365 * 24 * 3600
    for _ in range(2000):
        start = origin + timedelta(
            seconds=rng.randrange(two_years), microseconds=rng.randrange(10**6)
        )
        amount = timedelta(seconds=rng.randrange(20 * 7 * 3600 + 1))
        end = calendar.add_working_time(start, amount)
        assert calendar.working_time(start, end) == amount
        # The earliest such instant: a moment earlier, less has been worked.
        if amount:
            assert calendar.working_time(start, end - timedelta(microseconds=1)) < amount

        other = origin + timedelta(seconds=rng.randrange(two_years))
        a, b = min(start, other), max(start, other)
        reached = calendar.add_working_time(a, calendar.working_time(a, b))
        assert reached <= b
        assert calendar.working_time(reached, b) == timedelta()


def test_adding_zero_returns_the_start(calendar):
    start = local("2024-06-01T10:00")
    assert calendar.add_working_time(start, timedelta()) == start


def test_adding_negative_working_time_is_refused(calendar):
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_time(local("2024-06-03T09:00"), -HOUR)


# --- urgent cases: wall clock ------------------------------------------------------------


def test_urgent_cases_run_on_wall_clock_time(calendar):
    assert due(calendar, "2024-05-31T16:00", "10min", urgent=True) == local("2024-05-31T16:10")
    assert due(calendar, "2024-05-31T16:00", "6h", urgent=True) == local("2024-05-31T22:00")
    assert due(calendar, "2024-05-31T16:00", "1wd", urgent=True) == local("2024-06-01T16:00")
    assert due(calendar, "2024-10-01T12:00", "1h", urgent=True) == local("2024-10-01T13:00")


def test_urgent_elapsed_is_wall_time_and_normal_elapsed_is_working_time(calendar):
    start, at = local("2024-05-31T16:00"), local("2024-06-03T09:00")
    assert calendar.elapsed(start, at, urgent=True) == timedelta(days=2, hours=17)
    assert calendar.elapsed(start, at) == 2 * HOUR


# --- calendar days: 23:59:59 local on the Nth local date (fault B22) ----------------------


def test_calendar_day_limit_uses_the_local_date_not_the_utc_date(calendar):
    # 07:00 local is 23:00Z the day before: a UTC-date rule would be a day early.
    start = datetime.fromisoformat("2024-05-28T07:00:00+08:00")
    result = calendar.due(start, TimeLimit.parse("1cd"))
    assert result == datetime.fromisoformat("2024-05-29T23:59:59+08:00")


def test_calendar_day_limit_late_evening_report_and_overdue_after_local_midnight(calendar):
    start = datetime.fromisoformat("2024-05-27T23:30:00+08:00")
    deadline = calendar.due(start, TimeLimit.parse("1cd"))
    assert deadline == datetime.fromisoformat("2024-05-28T23:59:59+08:00")
    checked_at = datetime.fromisoformat("2024-05-28T16:00:00+00:00")  # 00:00 on the 29th
    assert checked_at > deadline


def test_calendar_days_ignore_holidays_and_urgency(calendar):
    start = "2024-09-30T10:00"
    assert due(calendar, start, "3cd") == local("2024-10-03T23:59:59")
    assert due(calendar, start, "3cd", urgent=True) == local("2024-10-03T23:59:59")


# --- years outside the data --------------------------------------------------------------


def test_year_outside_the_data_warns_once_and_counts_monday_to_friday(calendar):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert calendar.is_working_day(date(2030, 10, 1))  # a Tuesday, 国庆 unknown
        assert not calendar.is_working_day(date(2030, 10, 5))  # a Saturday
        assert due(calendar, "2030-10-04T16:00", "1wd") == local("2030-10-07T16:00")
    coverage = [w for w in caught if issubclass(w.category, CalendarCoverageWarning)]
    assert len(coverage) == 1
    assert "2030" in str(coverage[0].message)
    assert coverage[0].filename == __file__  # points at the caller, not at deadlines.py


def test_span_reaching_into_an_uncovered_year_warns(calendar):
    with pytest.warns(CalendarCoverageWarning, match="2027"):
        calendar.working_time(local("2026-12-31T09:00"), local("2027-01-05T09:00"))


# --- time limits -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["30min", "6h", "1wd", "1cd", "15wd"])
def test_time_limit_round_trips_through_text(text):
    assert str(TimeLimit.parse(text)) == text


@pytest.mark.parametrize("text", ["", "0min", "-1h", "5x", "1.5h", "h", "6 h"])
def test_time_limit_parse_rejects_bad_text_naming_it_and_the_accepted_forms(text):
    with pytest.raises(ValueError, match="30min, 6h, 1wd, 1cd") as error:
        TimeLimit.parse(text)
    assert repr(text) in str(error.value)


def test_time_limit_must_be_positive():
    with pytest.raises(ValueError):
        TimeLimit(0, "h")


# --- loading ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "work_hours,reason",
    [
        ("17:00-08:00", "does not end after it starts"),
        ("8-12", "cannot read period '8-12'"),
        ("08:30-12:00,11:00-17:30", "overlaps"),
        ("08:30-25:00", "not a time of day"),
        ("", "cannot read period"),
    ],
)
def test_load_rejects_malformed_work_hours(work_hours, reason):
    with pytest.raises(ValueError, match=reason) as error:
        WorkCalendar.load(work_hours=work_hours)
    assert "work_hours" in str(error.value)


def test_custom_work_hours_change_the_day():
    calendar = WorkCalendar.load(work_hours="09:00-12:00,14:00-18:00")
    assert calendar.day_length() == 7 * HOUR
    assert due(calendar, "2024-06-03T11:00", "2h") == local("2024-06-03T15:00")


def write_csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "calendar.csv"
    path.write_text("\n".join(["date,kind,name", *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "bad_row,reason",
    [
        ("2024-02-30,holiday,春节", "line 3: bad date '2024-02-30'"),
        ("2024/02/12,holiday,春节", "line 3: bad date"),
        ("2024-02-12,day-off,春节", "line 3: bad kind 'day-off'"),
        ("2024-02-13,workday,春节", "line 3: make-up workday 2024-02-13 is not a Saturday"),
        ("2024-02-04,holiday,春节", "line 3: 2024-02-04 is listed both"),
        ("2024-02-12,holiday", "line 3: expected 3 fields"),
    ],
)
def test_load_rejects_a_bad_csv_row_naming_the_line(tmp_path, bad_row, reason):
    path = write_csv(tmp_path, "2024-02-04,workday,春节", bad_row)
    with pytest.raises(ValueError, match=reason):
        WorkCalendar.load(path)


def test_load_rejects_a_year_with_no_rows_between_covered_years(tmp_path):
    path = write_csv(tmp_path, "2024-01-01,holiday,元旦", "2026-01-01,holiday,元旦")
    with pytest.raises(ValueError, match=r"no rows for \[2025\]"):
        WorkCalendar.load(path)


def test_load_reads_a_custom_calendar_file(tmp_path):
    path = write_csv(tmp_path, "2027-01-01,holiday,元旦")
    calendar = WorkCalendar.load(path)
    assert (calendar.first_year, calendar.last_year) == (2027, 2027)
    assert not calendar.is_working_day(date(2027, 1, 1))


@pytest.mark.parametrize("text", ["527041min", "8785h", "261wd", "367cd", "99999999wd"])
def test_limits_longer_than_a_year_are_refused(text):
    with pytest.raises(ValueError, match="longer than a year"):
        TimeLimit.parse(text)


def test_a_year_long_limit_is_accepted():
    assert str(TimeLimit.parse("260wd")) == "260wd"
