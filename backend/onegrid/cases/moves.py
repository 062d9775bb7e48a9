"""What one workflow move changes on a case row: state, milestones, counters and the clock.

Pure: the service applies it to a locked row in the database, the demo to the rows it
simulates, so both write exactly the same history. What needs the database (the unit the
dispatch rules choose, the case's category, when it was parked) comes in as callables,
asked only by the moves that need them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onegrid.cases import step_clock, workflow
from onegrid.cases.deadlines import TIME_ZONE, TimeLimit, WorkCalendar
from onegrid.errors import InvalidInput, TransitionNotAllowed

# Moves that start their step's clock afresh even when the step stays the same.
RESTARTS_CLOCK = ("send_back", "decline", "verify", "resubmit")
# Moves that end a step without it having been done, so it is never "late".
CANCELS_STEP = ("void", "merge")


@dataclass(frozen=True)
class Context:
    """Who moves the case, when, on which calendar, and lazy answers from storage."""

    role: str
    unit_code: str | None
    now: datetime
    calendar: WorkCalendar
    limit_for: Callable[[str, bool], TimeLimit]  # (step, urgent) → the case's limit
    category: Callable[[], dict[str, Any] | None] = lambda: None
    choose_unit: Callable[[], tuple[str | None, str | None]] = lambda: (None, None)
    unit_exists: Callable[[str], bool] = lambda _: True
    parked_at: Callable[[], datetime] | None = None


@dataclass
class Move:
    changes: dict[str, Any] = field(default_factory=dict)
    event_data: dict[str, Any] = field(default_factory=dict)
    late: bool = False  # the step this move ended finished after its due time


def plan_move(row: dict[str, Any], action: str, fields: dict[str, Any], ctx: Context) -> Move:
    """The changes `action` makes to the case `row`, or the error saying why it may not."""
    target = workflow.check_transition(action, row["status"], ctx.role, fields)
    if workflow.TRANSITIONS[action].own_unit_only and ctx.unit_code != row["unit_code"]:
        raise TransitionNotAllowed(
            f"only the unit the case is dispatched to ({row['unit_code']}) may {action} it;"
            f" you act for {ctx.unit_code or 'no unit'}",
            field="unit_code",
        )
    move = Move()
    if target == workflow.RESUMED:
        target = row["parked_from"]
    elif target == workflow.BY_VERDICT:
        if fields["verdict"] not in ("passed", "failed"):
            raise InvalidInput(
                f"verdict must be passed or failed, not {fields['verdict']!r}", field="verdict"
            )
        target = "verified" if fields["verdict"] == "passed" else "handling"
        move.event_data["verdict"] = fields["verdict"]
    if target != workflow.SAME:
        move.changes["status"] = target
    _milestones(row, action, fields, ctx, move)
    _run_clock(row, action, ctx, move)
    return move


def _milestones(
    row: dict[str, Any], action: str, fields: dict[str, Any], ctx: Context, move: Move
) -> None:
    changes, data, now = move.changes, move.event_data, ctx.now
    if action == "dispatch":
        unit: str | None = fields.get("unit_code")
        rule: str | None = "chosen_by_dispatcher"
        if unit:
            if not ctx.unit_exists(unit):
                raise InvalidInput(f"no active unit with code {unit!r}", field="unit_code")
        else:
            unit, rule = ctx.choose_unit()
            if unit is None:
                raise InvalidInput(
                    "no dispatch rule finds a unit for this case (no category department, no"
                    " community or street unit): give unit_code",
                    field="unit_code",
                )
        changes.update(unit_code=unit, dispatch_rule=rule, dispatched_at=now)
        data.update(unit_code=unit, dispatch_rule=rule)
    elif action == "file":
        changes["filed_at"] = now
    elif action == "report_back":
        changes["reported_back_at"] = now
    elif action == "verify" and changes["status"] == "handling":  # 返工: the same unit again
        changes["rework_count"] = row["rework_count"] + 1
    elif action in ("close", "self_handle"):
        category = ctx.category() if action == "self_handle" else None
        if category is not None and not category["self_handle_allowed"]:
            raise TransitionNotAllowed(
                f"{category['name']} ({category['code']}) may not be handled on the spot by a"
                " grid worker; report it for dispatch",
                field="action",
            )
        changes["closed_at"] = now
    elif action == "void":
        valid = fields["report_valid"]
        if not isinstance(valid, bool):
            raise InvalidInput("report_valid must be true or false", field="report_valid")
        changes["voided_valid"] = data["report_valid"] = valid
    elif action == "evaluate":
        rating = fields["satisfaction"]
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise InvalidInput(
                f"satisfaction must be a whole number from 1 to 5, not {rating!r}",
                field="satisfaction",
            )
        changes["satisfaction"] = data["satisfaction"] = rating
    elif action == "escalate":
        changes["escalated"] = True
    elif action == "park":
        changes["parked_from"] = row["status"]
    elif action == "request_extension":
        if row["extension_requested"]:
            raise TransitionNotAllowed(
                f"an extension of {row['extension_requested']} is already waiting for approval",
                field="extension",
            )
        changes["extension_requested"] = data["extension"] = str(
            _parse_limit(fields["extension"], "extension")
        )
    elif action in ("approve_extension", "reject_extension"):
        if not row["extension_requested"]:
            raise TransitionNotAllowed(
                "no extension is waiting for approval on this case", field="action"
            )
        if action == "reject_extension":
            changes["extension_requested"] = None
    elif action == "merge":
        into = fields["into"]
        if not isinstance(into, int) or isinstance(into, bool) or into == row["id"]:
            raise InvalidInput("into must be the id of another case", field="into")
        changes["merged_into"] = data["into"] = into


def _run_clock(row: dict[str, Any], action: str, ctx: Context, move: Move) -> None:
    """Stop (park), restart (resume), lengthen (extension) or start the step's clock."""
    changes, calendar, now, basis = move.changes, ctx.calendar, ctx.now, row["step_basis"]
    if action == "park":
        changes["parked_remaining_s"] = (
            step_clock.remaining_s(calendar, basis, now, row["due_at"]) if row["due_at"] else None
        )
        changes.update(warn_at=None, due_at=None)
        return
    if action == "resume":
        if row["parked_remaining_s"] is not None:
            warn, due = step_clock.restart_from(
                calendar, basis, now, row["parked_remaining_s"], row["step_length_s"]
            )
            changes.update(warn_at=warn, due_at=due)
        changes.update(parked_from=None, parked_remaining_s=None)
        if ctx.parked_at is not None:
            move.event_data["parked_s"] = (now - ctx.parked_at()).total_seconds()
        return
    if action == "approve_extension":
        extension = TimeLimit.parse(row["extension_requested"])
        extra = step_clock.limit_length_s(calendar, extension, basis)
        left = step_clock.remaining_s(calendar, basis, now, row["due_at"])
        length = row["step_length_s"] + extra
        warn, due = step_clock.restart_from(calendar, basis, now, left + extra, length)
        changes.update(
            step_length_s=length,
            warn_at=warn,
            due_at=due,
            extension_requested=None,
            extension_count=row["extension_count"] + 1,
        )
        move.event_data.update(extension=row["extension_requested"], due_at=due)
        return
    old_step = row["step"]
    new_step = workflow.STEP_OF_STATUS.get(changes.get("status", row["status"]))
    if action not in RESTARTS_CLOCK and new_step == old_step:
        return
    if old_step and row["due_at"] is not None and action not in CANCELS_STEP:
        move.late = now > row["due_at"]
        if move.late:
            changes["late_steps"] = row["late_steps"] + 1
    changes["extension_requested"] = None
    if new_step is None:
        changes.update(
            step=None,
            step_basis=None,
            step_started_at=None,
            step_length_s=None,
            warn_at=None,
            due_at=None,
        )
        return
    clock = step_clock.start(
        calendar, new_step, ctx.limit_for(new_step, row["urgent"]), now, row["urgent"]
    )
    changes.update(clock.as_columns())
    move.event_data["due_at"] = clock.due_at


def event_data_json(data: dict[str, Any]) -> str:
    """An event's data as stored: times as ISO 8601 in Beijing time."""

    def value(v: Any) -> Any:
        return v.astimezone(TIME_ZONE).isoformat() if isinstance(v, datetime) else str(v)

    return json.dumps(data, ensure_ascii=False, default=value)


def _parse_limit(text: Any, field: str) -> TimeLimit:
    try:
        return TimeLimit.parse(str(text))
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from exc
