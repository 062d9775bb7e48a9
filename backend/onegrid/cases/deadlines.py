"""The work calendar (工作日历) and case deadlines (办理时限).

A case's time limit counts working time: working days are Monday to Friday, minus the
public holidays and plus the make-up working days (调休上班) that the State Council
General Office announces each year in its notice on holiday arrangements
(国务院办公厅关于…年部分节假日安排的通知). ``work_calendar.csv`` holds those notices for
2024 (published 2023-10-25), 2025 (2024-11-12) and 2026 (2025-11-04): one row per day,
``date,kind,name`` with kind ``holiday`` (every day of an announced holiday period,
weekends included) or ``workday`` (a make-up working day on a Saturday or Sunday).
A year's rows must be complete: a year outside the file falls back to Monday to Friday,
with a CalendarCoverageWarning, so add next year's notice when it comes out (November).

Within a working day only the working periods count (08:30-12:00 and 13:30-17:30 by
default). Urgent cases run on wall-clock time instead. Everything is computed in
Asia/Shanghai local time, which has had no daylight saving since 1991, so local wall-clock
differences are real durations.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import warnings
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo

from onegrid.errors import InvalidInput

# zoneinfo, never pytz: a pytz zone attached with tzinfo= is local mean time, +08:06 (B22).
TIME_ZONE = ZoneInfo("Asia/Shanghai")

LimitUnit = Literal["min", "h", "wd", "cd"]

DEFAULT_WORK_HOURS = "08:30-12:00,13:30-17:30"
CALENDAR_FILE = "work_calendar.csv"

_LIMIT_FORMS = "a whole number above 0 then min, h, wd or cd, e.g. 30min, 6h, 1wd, 1cd"
_LIMIT = re.compile(r"([1-9][0-9]*)(min|h|wd|cd)")
_WORK_HOURS_FORM = "HH:MM-HH:MM periods in order, comma-separated, e.g. " + DEFAULT_WORK_HOURS
_PERIOD = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KINDS = ("holiday", "workday")
_END_OF_DAY = time(23, 59, 59)


# A year: min and h count working time (about 260 working days of 7.5 hours), so their caps
# are working-time caps.
MAX_AMOUNT = {"min": 2000 * 60, "h": 2000, "wd": 260, "cd": 366}


@dataclass(frozen=True)
class TimeLimit:
    """A time limit such as 30min, 6h, 1wd or 1cd.

    min and h are working minutes and hours, wd working days (each one day_length of
    working time), cd calendar days: due at 23:59:59 local on the Nth date after the start.
    """

    amount: int
    unit: LimitUnit

    def __post_init__(self) -> None:
        if self.amount <= 0 or self.unit not in get_args(LimitUnit):
            raise ValueError(f"bad time limit {self.amount}{self.unit}; expected {_LIMIT_FORMS}")
        # No step of a case runs longer than a year; more is a typing error, and far-off dates
        # overflow the date arithmetic.
        if self.amount > MAX_AMOUNT[self.unit]:
            raise ValueError(
                f"time limit {self.amount}{self.unit} is longer than a year; the most is"
                f" {MAX_AMOUNT[self.unit]}{self.unit}"
            )

    @classmethod
    def parse(cls, text: str) -> TimeLimit:
        """Read "30min", "6h", "1wd" or "1cd"; ValueError naming the text otherwise."""
        match = _LIMIT.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"cannot read time limit {text!r}; expected {_LIMIT_FORMS}")
        return cls(int(match.group(1)), cast(LimitUnit, match.group(2)))

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


class CalendarCoverageWarning(UserWarning):
    """A date falls in a year the work calendar has no holiday data for."""


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and working hours in Asia/Shanghai.

    ``holidays`` and ``workdays`` only apply within first_year..last_year; outside those
    years Monday to Friday are working days and a CalendarCoverageWarning is issued once
    per year and calendar.
    """

    holidays: frozenset[date]
    workdays: frozenset[date]
    periods: tuple[tuple[time, time], ...]
    first_year: int
    last_year: int
    # Derived once so counting working days is a few bisections, not a walk over the dates.
    _removed: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _added: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _spans: tuple[tuple[timedelta, timedelta], ...] = field(init=False, repr=False, compare=False)
    _day_length: timedelta = field(init=False, repr=False, compare=False)
    _warned_years: set[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_periods(self.periods)
        if self.first_year > self.last_year:
            raise ValueError(f"first_year {self.first_year} is after last_year {self.last_year}")
        removed = tuple(
            sorted(
                d.toordinal()
                for d in self.holidays
                if d.weekday() < 5 and d not in self.workdays and self._covers(d.year)
            )
        )
        added = tuple(
            sorted(
                d.toordinal() for d in self.workdays if d.weekday() >= 5 and self._covers(d.year)
            )
        )
        spans = tuple((_since_midnight(a), _since_midnight(b)) for a, b in self.periods)
        set_field = object.__setattr__  # frozen: derived fields are set once, here
        set_field(self, "_removed", removed)
        set_field(self, "_added", added)
        set_field(self, "_spans", spans)
        set_field(self, "_day_length", sum((b - a for a, b in spans), timedelta()))
        set_field(self, "_warned_years", set())

    @classmethod
    def load(cls, path: Path | None = None, work_hours: str = DEFAULT_WORK_HOURS) -> WorkCalendar:
        """Read a calendar CSV (None: the packaged one) and the working periods of a day.

        A malformed work_hours or CSV row raises ValueError naming the field or line.
        """
        periods = parse_work_hours(work_hours)
        if path is None:
            name = CALENDAR_FILE
            text = resources.files("onegrid.cases").joinpath(CALENDAR_FILE).read_text("utf-8")
        else:
            name = str(path)
            text = Path(path).read_text(encoding="utf-8-sig")
        holidays, workdays = _read_calendar_csv(text, name)
        years = {d.year for d in holidays | workdays}
        first, last = min(years), max(years)
        missing = sorted(set(range(first, last + 1)) - years)
        if missing:
            raise ValueError(f"{name}: no rows for {missing} between {first} and {last}")
        return cls(frozenset(holidays), frozenset(workdays), periods, first, last)

    def is_working_day(self, d: date) -> bool:
        """Make-up workday: True; holiday: False; otherwise Monday to Friday."""
        if not self._covers(d.year):
            self._warn_uncovered(d.year)
            return d.weekday() < 5
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    def day_length(self) -> timedelta:
        """The working time in one working day (7.5 h with the default periods)."""
        return self._day_length

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside [start, end); negative when end is before start."""
        begin, finish = _local(start, "start"), _local(end, "end")
        if finish < begin:
            return -self.working_time(end, start)
        first_day, last_day = begin.date(), finish.date()
        if first_day == last_day:
            if not self.is_working_day(first_day):
                return timedelta()
            return self._worked_by(finish.time()) - self._worked_by(begin.time())
        total = self._day_length * self._count_working_days(first_day + _ONE_DAY, last_day)
        # Only ask about a day the span has working hours of: an end at midnight on
        # 1 January must not warn about a year it does not reach.
        left_on_first = self._day_length - self._worked_by(begin.time())
        if left_on_first and self.is_working_day(first_day):
            total += left_on_first
        worked_on_last = self._worked_by(finish.time())
        if worked_on_last and self.is_working_day(last_day):
            total += worked_on_last
        return total

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The first instant at which ``amount`` of working time has passed since start.

        Running out exactly at the end of a working period gives that end (17:30), not the
        start of the next period.
        """
        if amount < timedelta():
            raise ValueError(f"working time to add must not be negative, got {amount}")
        begin = _local(start, "start")
        if amount == timedelta():
            return begin.replace(tzinfo=TIME_ZONE)
        day = begin.date()
        if self.is_working_day(day):
            done_today = self._worked_by(begin.time())
            if amount <= self._day_length - done_today:
                return _at(day, self._clock_at(done_today + amount))
            amount -= self._day_length - done_today
        # Whole days first; a remainder of zero ends at the close of the last day.
        whole_days, rest = divmod(amount, self._day_length)
        if rest == timedelta():
            return _at(
                self._nth_working_day_after(day, whole_days), self._clock_at(self._day_length)
            )
        return _at(self._nth_working_day_after(day, whole_days + 1), self._clock_at(rest))

    def due(self, start: datetime, limit: TimeLimit, *, urgent: bool = False) -> datetime:
        """When a case started at ``start`` with ``limit`` is due (aware, Asia/Shanghai).

        cd: 23:59:59 local on the local start date plus N days, urgent or not. Urgent cases
        otherwise run on wall-clock time (wd = N x 24 h); others on working time.
        """
        local = _local(start, "start")
        if limit.unit == "cd":
            last_day = local.date() + timedelta(days=limit.amount)
            return datetime.combine(last_day, _END_OF_DAY, tzinfo=TIME_ZONE)
        if urgent:
            wall = {"min": timedelta(minutes=1), "h": timedelta(hours=1), "wd": timedelta(days=1)}
            # Through UTC: aware arithmetic in one zone is wall-clock arithmetic.
            return (start.astimezone(UTC) + limit.amount * wall[limit.unit]).astimezone(TIME_ZONE)
        working = {"min": timedelta(minutes=1), "h": timedelta(hours=1), "wd": self._day_length}
        return self.add_working_time(start, limit.amount * working[limit.unit])

    def elapsed(self, start: datetime, at: datetime, *, urgent: bool = False) -> timedelta:
        """Time counted against a limit since start: working time, or wall time if urgent."""
        if urgent:
            _local(start, "start")
            _local(at, "at")
            # Through UTC: subtracting two datetimes in one zone ignores their offsets.
            return at.astimezone(UTC) - start.astimezone(UTC)
        return self.working_time(start, at)

    def _covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def _warn_uncovered(self, year: int) -> None:
        if year in self._warned_years:
            return
        self._warned_years.add(year)
        warnings.warn(
            f"the work calendar covers {self.first_year}-{self.last_year}, not {year}: "
            "counting Monday to Friday as working days, with no public holidays",
            CalendarCoverageWarning,
            stacklevel=_caller_stacklevel(),
        )

    def _worked_by(self, clock: time) -> timedelta:
        """Working time from midnight to ``clock`` on a working day."""
        now = _since_midnight(clock)
        return sum(
            (min(now, end) - begin for begin, end in self._spans if now > begin), timedelta()
        )

    def _clock_at(self, worked: timedelta) -> timedelta:
        """The earliest time since midnight by which ``worked`` (> 0) has been worked."""
        for begin, end in self._spans:
            if worked <= end - begin:
                return begin + worked
            worked -= end - begin
        raise AssertionError("more working time than one day holds")

    def _count_working_days(self, first: date, stop: date) -> int:
        """Working days in [first, stop)."""
        if stop <= first:
            return 0
        for year in range(first.year, (stop - _ONE_DAY).year + 1):
            if not self._covers(year):
                self._warn_uncovered(year)
        a, b = first.toordinal(), stop.toordinal()
        removed = bisect_left(self._removed, b) - bisect_left(self._removed, a)
        added = bisect_left(self._added, b) - bisect_left(self._added, a)
        return _weekdays_before(b) - _weekdays_before(a) - removed + added

    def _nth_working_day_after(self, day: date, n: int) -> date:
        """The nth working day after ``day`` (n >= 1)."""
        # n days hold at most n working days, so jumping n never passes the target; when
        # all n are working days the last of them is it.
        while n > 0:
            found = self._count_working_days(day + _ONE_DAY, day + timedelta(days=n + 1))
            day += timedelta(days=n)
            n -= found
        return day


_ONE_DAY = timedelta(days=1)


def parse_work_hours(text: str) -> tuple[tuple[time, time], ...]:
    """Read working periods such as "08:30-12:00,13:30-17:30"; ValueError naming the fault."""
    periods = []
    for part in text.split(","):
        match = _PERIOD.fullmatch(part.strip())
        if match is None:
            raise ValueError(
                f"work_hours {text!r}: cannot read period {part.strip()!r}; "
                f"expected {_WORK_HOURS_FORM}"
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"work_hours {text!r}: {part.strip()!r} is not a time of day")
        periods.append((time(h1, m1), time(h2, m2)))
    try:
        _check_periods(tuple(periods))
    except ValueError as error:
        raise ValueError(f"work_hours {text!r}: {error}; expected {_WORK_HOURS_FORM}") from None
    return tuple(periods)


def _check_periods(periods: tuple[tuple[time, time], ...]) -> None:
    if not periods:
        raise ValueError("no working periods")
    previous_end: time | None = None
    for begin, end in periods:
        if end <= begin:
            raise ValueError(f"period {begin:%H:%M}-{end:%H:%M} does not end after it starts")
        if previous_end is not None and begin < previous_end:
            raise ValueError(
                f"period {begin:%H:%M}-{end:%H:%M} overlaps or precedes the one before"
            )
        previous_end = end


def _read_calendar_csv(text: str, name: str) -> tuple[set[date], set[date]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != ["date", "kind", "name"]:
        raise ValueError(f"{name} line 1: header must be date,kind,name, got {header}")
    holidays: set[date] = set()
    workdays: set[date] = set()
    for row in reader:
        where = f"{name} line {reader.line_num}"
        if not row:
            continue
        if len(row) != 3:
            raise ValueError(f"{where}: expected 3 fields (date,kind,name), got {len(row)}")
        raw_date, kind, festival = (value.strip() for value in row)
        try:
            if not _ISO_DATE.fullmatch(raw_date):
                raise ValueError
            day = date.fromisoformat(raw_date)
        except ValueError:
            raise ValueError(f"{where}: bad date {raw_date!r}, expected YYYY-MM-DD") from None
        if kind not in _KINDS:
            raise ValueError(f"{where}: bad kind {kind!r}, expected holiday or workday")
        if not festival:
            raise ValueError(f"{where}: the name (festival) is empty")
        if kind == "workday" and day.weekday() < 5:
            raise ValueError(f"{where}: make-up workday {day} is not a Saturday or Sunday")
        if day in (workdays if kind == "holiday" else holidays):
            raise ValueError(f"{where}: {day} is listed both as a holiday and as a workday")
        (holidays if kind == "holiday" else workdays).add(day)
    if not holidays and not workdays:
        raise ValueError(f"{name}: no rows")
    return holidays, workdays


def _local(moment: datetime, name: str) -> datetime:
    """An aware datetime as naive Asia/Shanghai wall-clock time; naive input is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} {moment.isoformat()} has no time zone; deadlines need one")
    return moment.astimezone(TIME_ZONE).replace(tzinfo=None)


def _at(day: date, since_midnight: timedelta) -> datetime:
    return datetime.combine(day, time(), tzinfo=TIME_ZONE) + since_midnight


def _since_midnight(clock: time) -> timedelta:
    return timedelta(
        hours=clock.hour, minutes=clock.minute, seconds=clock.second, microseconds=clock.microsecond
    )


def _caller_stacklevel() -> int:
    """The stacklevel of the first frame outside this module, so a warning names the caller."""
    level, frame = 2, sys._getframe(2)
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        level, frame = level + 1, frame.f_back
    return level


def _weekdays_before(ordinal: int) -> int:
    """Mondays to Fridays among the dates with ordinal 1 .. ordinal - 1 (day 1 is a Monday)."""
    weeks, days = divmod(ordinal - 1, 7)
    return weeks * 5 + min(days, 5)


# --- moments typed by people (query parameters, command options) -------------------------

MIN_YEAR, MAX_YEAR = 1900, 2999
# A "+08:00" offset typed into a URL arrives as " 08:00" (a plus in a query string is a space).
_SPACED_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def parse_moment(text: str | None, field: str) -> datetime:
    """A date (midnight, Beijing time) or a date and time (Beijing time unless it has an offset)."""
    value = (text or "").strip()
    try:
        moment = datetime.fromisoformat(_SPACED_OFFSET.sub(r"\1+\2", value))
    except ValueError:
        moment = None
    # Far-off years are typing errors, and near year 1 or 9999 time zone arithmetic overflows.
    if moment is None or not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise InvalidInput(
            f"{field} must be a date like 2025-01-01 or a time like 2025-01-01T08:00:00+08:00"
            f" (years {MIN_YEAR}-{MAX_YEAR}), not {text!r}",
            field=field,
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=TIME_ZONE)


# --- quarters (季度), the period the street's visit and registry figures are counted in ---

_QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)


def quarter_of(text: str | None, now: datetime) -> tuple[str, date, date]:
    """("2026Q4", first day, first day of the next quarter) for "2026Q4" or "2026-Q4", or
    for the quarter of `now` in Beijing time when no quarter is given."""
    if text:
        match = _QUARTER.fullmatch(text.strip())
        if match is None or not 1900 <= int(match.group(1)) <= 2999:
            raise InvalidInput(
                f"quarter must look like 2026Q4 (years 1900-2999), not {text!r}", field="quarter"
            )
        year, q = int(match.group(1)), int(match.group(2))
    else:
        today = now.astimezone(TIME_ZONE).date()
        year, q = today.year, (today.month - 1) // 3 + 1
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return f"{year}Q{q}", start, end
