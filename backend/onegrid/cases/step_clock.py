"""The running step's clock on a case: start, stop (park), resume, extend, and its light.

A clock counts on one basis: working time on the work calendar, or wall-clock time for
urgent cases and for calendar-day limits. It is kept on the case row as started_at,
length_s (the limit plus approved extensions), warn_at (80 % used) and due_at, so that
"which cases are yellow or red" is a plain comparison in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from onegrid.cases.deadlines import TimeLimit, WorkCalendar

Basis = Literal["work", "wall"]
WARN_SHARE = 0.8  # green below 80 % of the limit, yellow from 80 %, red when overdue


@dataclass(frozen=True)
class StepClock:
    step: str
    basis: Basis
    started_at: datetime
    length_s: float
    warn_at: datetime
    due_at: datetime

    def as_columns(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "step_basis": self.basis,
            "step_started_at": self.started_at,
            "step_length_s": self.length_s,
            "warn_at": self.warn_at,
            "due_at": self.due_at,
        }


def basis_for(limit: TimeLimit, urgent: bool) -> Basis:
    return "wall" if urgent or limit.unit == "cd" else "work"


def start(
    calendar: WorkCalendar, step: str, limit: TimeLimit, at: datetime, urgent: bool
) -> StepClock:
    basis = basis_for(limit, urgent)
    due = calendar.due(at, limit, urgent=urgent)
    length = _between(calendar, basis, at, due)
    warn = _after(calendar, basis, at, length * WARN_SHARE)
    return StepClock(step, basis, at, length, warn, due)


def remaining_s(calendar: WorkCalendar, basis: Basis, at: datetime, due: datetime) -> float:
    """Step time left at `at` (negative once overdue)."""
    return _between(calendar, basis, at, due)


def restart_from(
    calendar: WorkCalendar, basis: Basis, now: datetime, remaining: float, length: float
) -> tuple[datetime, datetime]:
    """(warn_at, due_at) for a clock that runs again at `now` with `remaining` seconds left.

    A clock already overdue stays overdue by the same wall-clock amount.
    """
    if remaining <= 0:
        due = now + timedelta(seconds=remaining)
        return due, due
    due = _after(calendar, basis, now, remaining)
    warn_left = remaining - length * (1 - WARN_SHARE)
    warn = _after(calendar, basis, now, warn_left) if warn_left > 0 else now
    return warn, due


def limit_length_s(calendar: WorkCalendar, limit: TimeLimit, basis: Basis) -> float:
    """How long a limit is on a basis (an extension of 2wd adds two working days)."""
    if limit.unit == "min":
        return limit.amount * 60.0
    if limit.unit == "h":
        return limit.amount * 3600.0
    if limit.unit == "wd" and basis == "work":
        return limit.amount * calendar.day_length().total_seconds()
    return limit.amount * 86400.0


def light(calendar: WorkCalendar, case: dict[str, Any], at: datetime) -> dict[str, Any] | None:
    """The light of a case's running (or stopped) step at `at`: green, yellow or red."""
    length = case.get("step_length_s")
    basis = case.get("step_basis")
    if not length or basis not in ("work", "wall"):
        return None
    if case.get("status") == "parked":
        left = case.get("parked_remaining_s") or 0.0
    elif case.get("due_at") is not None:
        left = remaining_s(calendar, basis, at, case["due_at"])
    else:
        return None
    used = 1 - left / length
    colour = "red" if left < 0 else "yellow" if used >= WARN_SHARE else "green"
    return {
        "light": colour,
        "time_used": round(used, 4),
        "remaining_s": round(left, 1),
        "clock_stopped": case.get("status") == "parked",
    }


def _between(calendar: WorkCalendar, basis: Basis, a: datetime, b: datetime) -> float:
    if basis == "wall":
        return (b - a).total_seconds()
    return calendar.working_time(a, b).total_seconds()


def _after(calendar: WorkCalendar, basis: Basis, at: datetime, seconds: float) -> datetime:
    if basis == "wall":
        return at + timedelta(seconds=seconds)
    return calendar.add_working_time(at, timedelta(seconds=seconds))
