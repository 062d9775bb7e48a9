"""The demo street's year of cases through the real workflow, simulated case by case.

网格上报、社区汇总、街道派单、部门反馈: every demo case starts as a report and moves, with a
seeded random generator, from its report to the demo's reference "now". Most take the usual
path report → screen → file → dispatch → accept → report back → verify → close (→ evaluate);
in realistic shares the others are returned for details and resubmitted, sent back by the
street or by the unit, voided (a valid report or not), merged into an earlier duplicate,
fixed on the spot by the grid worker (自处理), parked and resumed (挂账), given a longer limit
(延期) or not, reworked once or twice (返工) and escalated (督办); some steps run late and a
few cases lie untouched for weeks. A move that would happen after "now" does not happen, so
the last days' cases are still open, some of them yellow or red.

Each move is checked by workflow.check_transition for the actor's role (and the unit, for the
unit's own moves) and applied to an in-memory copy of the case row as cases.service applies it:
the same state, milestones, counters and step clock, computed with step_clock on the work
calendar. The history is therefore one the API would have accepted, and the row is the one the
API would have left (tests/demo replays a sample through the service to prove it). Pure
Python, no database: load.py reads the inputs and writes events and rows in bulk.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

import numpy as np

from onegrid.cases import moves, step_clock, workflow
from onegrid.cases.deadlines import TimeLimit, WorkCalendar
from onegrid.cases.service import step_limit
from onegrid.settings import Settings
from onegrid.units import service as units_service

# The case columns the workflow keeps (besides status), in the order load.py writes them.
WORKFLOW_COLUMNS = (
    "status",
    "version",
    "urgent",
    "reporter",
    "unit_code",
    "dispatch_rule",
    "step",
    "step_basis",
    "step_started_at",
    "step_length_s",
    "warn_at",
    "due_at",
    "parked_from",
    "parked_remaining_s",
    "extension_requested",
    "filed_at",
    "dispatched_at",
    "reported_back_at",
    "closed_at",
    "voided_valid",
    "late_steps",
    "rework_count",
    "extension_count",
    "escalated",
    "satisfaction",
    "merged_into",
)

# How the demo street works, in shares of cases or of steps (local practice, not national).
OUTSIDE_VOIDED = 0.85  # reports beyond the street: voided and passed on to the neighbour
SELF_HANDLED = 0.5  # of a grid worker's own reports of a type he may fix on the spot
MERGED = 0.6  # of reports with an earlier open one of the same type nearby
RETURNED = 0.03  # community asks the reporter for details (退回补充)
RESUBMITTED = 0.9  # of returned reports; the rest are voided after a few days
VOIDED_AT_SCREENING = 0.025
STREET_SENDS_BACK = 0.015  # command centre sends a screened report back to the community
VOIDED_AFTER_FILING = 0.005
UNIT_SENDS_BACK = 0.04  # "not ours": the unit returns the dispatch, the centre re-dispatches
EXTENSION_ASKED = 0.06  # of handle steps counted in working days
EXTENSION_APPROVED = 0.8
REWORK = (0.06, 0.2)  # verification fails the first time, and again after one rework
LATE = {"file": 0.04, "handle": 0.06, "verify": 0.04, "close": 0.02}
# Steps that stall for weeks or months (疑难案件): nobody agrees whose the case is, the unit
# sits on it, nobody goes to check or close it.
STALLED = {"file": 0.004, "handle": 0.015, "verify": 0.004, "close": 0.003}
STALLED_WORKING_DAYS = (5.0, 120.0)
# Where a late file step loses its time: at the community, before filing, or at dispatch.
FILE_STAGES = (0.45, 0.75, 1.0)  # on-time screen, file and dispatch, as shares of the step
LATE_FILE_STAGE = (0.2, 0.3, 0.5)
UNACCEPTED = 0.3  # of stalled handle steps: the unit does not even sign for the case
ESCALATED = (0.3, 0.6)  # of late handle steps, and of badly late ones (over 3x the limit)
# Parking (挂账) is for problems that need money, a season or other bodies: mostly illegal
# structures, road works and cooking fumes.
PARKED = {"05001": 0.2, "22001": 0.1, "06001": 0.08, "03002": 0.05, "21002": 0.04}
PARKED_OTHER = 0.006
PARKED_AT_SHARE = (0.6, 1.2)  # of the handle step's limit used when a case is parked
PARKED_DAYS = (40.0, 1.0)  # median and log spread of how long a case stays parked
EVALUATED = {"resident_wechat": 0.7, "hotline_12345": 0.9}  # 回访 of 12345 cases is the rule
EVALUATED_OTHER = 0.15
SATISFACTION = (0.02, 0.03, 0.08, 0.25, 0.62)  # 1 to 5 stars
SATISFACTION_AFTER_TROUBLE = (0.05, 0.10, 0.15, 0.30, 0.40)  # late or reworked

STAFF_PER_COMMUNITY = 3
GRID_WORKERS_PER_GRID = 2
DISPATCHERS = 3
HANDLERS_PER_UNIT = 2
# Whom a re-dispatch goes to when the unit the rules chose sends the case back.
FALLBACK_UNITS = ("S03", "D02")


@dataclass(frozen=True)
class Person:
    """Who acts: a user id, a role of auth.actor.ROLES (or "reporter") and their unit."""

    name: str
    role: str
    unit_code: str | None = None


@dataclass(frozen=True)
class DemoCase:
    """What the simulation needs to know about one stored case."""

    id: int
    external_id: str
    reported_at: datetime
    source: str
    description: str | None
    category: dict[str, Any] | None  # its case_categories row; None for 其他
    third_code: str | None  # the grid whose staff patrol the place (nearest one if outside)
    outside: bool
    # Dispatch candidates by place (units.repository.DISPATCH_CANDIDATES): dedicated_unit,
    # courtyard_company, community, street.
    premises: dict[str, str | None]
    duplicates_of: tuple[int, ...] = ()  # earlier cases of its type nearby, nearest first


@dataclass
class Event:
    action: str
    from_status: str | None
    to_status: str
    actor: str
    role: str
    unit_code: str | None
    at: datetime
    note: str | None
    data: dict[str, Any]
    late: bool = False


def dispatch_by_rules(
    premises: dict[str, str | None], category: dict[str, Any] | None
) -> tuple[str | None, str | None]:
    """The unit and rule units_service.choose_unit picks, from candidates already read."""
    candidates = {
        **premises,
        "category_department": category["department_code"] if category else None,
    }
    # An unknown type may be handled on the premises (coalesce(..., true) in the SQL).
    premises_may_handle = bool(category["property_may_handle"]) if category else True
    for rule in units_service.DISPATCH_RULES:
        unit = candidates.get(rule)
        if unit and (rule not in units_service.PREMISES_RULES or premises_may_handle):
            return unit, rule
    return None, None


class CaseRun:
    """One case's row and history, moved the way cases.service moves a stored case."""

    def __init__(
        self,
        case: DemoCase,
        reporter: Person,
        calendar: WorkCalendar,
        settings: Settings,
        limits: dict[tuple[str | None, str, bool], TimeLimit] | None = None,
    ) -> None:
        self.case, self.calendar, self.settings = case, calendar, settings
        self._limits = {} if limits is None else limits  # parsed once per type, step, urgency
        urgent = bool(case.category and case.category["urgent"])
        clock = step_clock.start(
            calendar, "file", self.limit("file", urgent), case.reported_at, urgent
        )
        # Whether the running clock still runs as started (not resumed, not extended).
        self.clock_as_started = True
        # As create_case stores a new report.
        self.row: dict[str, Any] = {column: None for column in WORKFLOW_COLUMNS}
        self.row.update(
            id=case.id,
            status="reported",
            urgent=urgent,
            reporter=None if reporter.role == "reporter" else reporter.name,
            late_steps=0,
            rework_count=0,
            extension_count=0,
            escalated=False,
            **clock.as_columns(),
        )
        self.events = [
            Event(
                "report",
                None,
                "reported",
                reporter.name,
                reporter.role,
                reporter.unit_code,
                case.reported_at,
                case.description,
                {"source": case.source},
            )
        ]

    def limit(self, step: str, urgent: bool) -> TimeLimit:
        """cases.service.step_limit for this case's type."""
        key = (self.case.category["code"] if self.case.category else None, step, urgent)
        if key not in self._limits:
            self._limits[key] = step_limit(self.settings, self.case.category, step, urgent)
        return self._limits[key]

    @property
    def status(self) -> str:
        return str(self.row["status"])

    @property
    def last_at(self) -> datetime:
        return self.events[-1].at

    def status_at(self, at: datetime) -> str:
        """The state the case was in at `at` (after every event up to and including it)."""
        return [e for e in self.events if e.at <= at][-1].to_status

    def columns(self) -> dict[str, Any]:
        return {**self.row, "version": len(self.events)}

    def add_merged_in(self, duplicate_id: int, who: Person, at: datetime) -> None:
        """The event the service writes on the case a duplicate is merged into."""
        position = sum(1 for e in self.events if e.at <= at)
        state = self.events[position - 1].to_status
        self.events.insert(
            position,
            Event(
                "merged_in",
                state,
                state,
                who.name,
                who.role,
                who.unit_code,
                at,
                f"case {duplicate_id} merged into this one",
                {"duplicate": duplicate_id},
            ),
        )

    def move(self, action: str, who: Person, at: datetime, **fields: Any) -> None:
        """Apply one action exactly as cases.service.transition_case does, or raise as it would."""
        row = self.row
        if at < self.last_at:
            raise ValueError(f"{action} at {at} comes before the case's last event")
        parked_at = next((e.at for e in reversed(self.events) if e.action == "park"), None)
        move = moves.plan_move(
            row,
            action,
            fields,
            moves.Context(
                role=who.role,
                unit_code=who.unit_code,
                now=at,
                calendar=self.calendar,
                limit_for=self.limit,
                category=lambda: self.case.category,
                choose_unit=lambda: dispatch_by_rules(self.case.premises, self.case.category),
                parked_at=(lambda: parked_at) if parked_at else None,
            ),
        )
        if "step_started_at" in move.changes:
            self.clock_as_started = True
        elif action in ("resume", "approve_extension"):
            self.clock_as_started = False
        self.events.append(
            Event(
                action,
                self.status,
                move.changes.get("status", self.status),
                who.name,
                who.role,
                who.unit_code,
                at,
                fields.get("note") or fields.get("reason"),
                move.event_data,
                move.late,
            )
        )
        row.update(move.changes)


class _Draws:
    """Draws from one seeded numpy stream; uniforms come in blocks (scalar calls are slow)."""

    BLOCK = 4096

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._block: list[float] = []
        self._next = 0

    def random(self) -> float:
        if self._next == len(self._block):
            self._block, self._next = self.rng.random(self.BLOCK).tolist(), 0
        self._next += 1
        return self._block[self._next - 1]

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def index(self, n: int) -> int:
        return min(int(self.random() * n), n - 1)

    def choice(self, weights: Sequence[float]) -> int:
        """An index drawn with probability proportional to `weights`."""
        cumulative = list(accumulate(weights))
        return min(bisect_right(cumulative, self.random() * cumulative[-1]), len(weights) - 1)

    def exponential(self, scale: float) -> float:
        return -scale * math.log(1.0 - self.random())

    def beta(self, a: float, b: float) -> float:
        return float(self.rng.beta(a, b))

    def lognormal(self, mean: float, sigma: float) -> float:
        return math.exp(mean + sigma * float(self.rng.standard_normal()))


class _AfterNow(Exception):
    """The next move would happen after the reference now: the case stays as it is."""


@dataclass
class _Plan:
    """Per-case decisions taken once, and the share of each running clock to use."""

    patrol: Person  # the grid worker who goes and looks
    park_from: str | None
    shares: dict[tuple[Any, ...], float] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)  # side paths taken (each at most once)
    handler: Person | None = None


class Simulation:
    """Runs the demo cases, oldest first, with one random stream: same inputs, same year."""

    def __init__(
        self,
        *,
        calendar: WorkCalendar,
        settings: Settings,
        now: datetime,
        rng: np.random.Generator,
        unit_kinds: dict[str, str],
        street_unit: str | None,
    ) -> None:
        self.calendar, self.settings, self.now = calendar, settings, now
        self.draw = _Draws(rng)
        self.unit_kinds, self.street_unit = unit_kinds, street_unit
        self.runs: dict[int, CaseRun] = {}
        self._limits: dict[tuple[str | None, str, bool], TimeLimit] = {}
        self._phases: dict[str, Callable[[CaseRun, _Plan], bool]] = {
            "reported": self._screen,
            "returned": self._after_return,
            "screened": self._file,
            "filed": self._dispatch,
            "dispatched": self._accept,
            "handling": self._handle,
            "reported_back": self._verify,
            "verified": self._close,
            "closed": self._evaluate,
            "parked": self._resume,
        }

    # --- people (ASCII user ids, one set per grid, community and unit) -------------------

    def _community_unit(self, case: DemoCase) -> str | None:
        return f"community:{case.third_code[:12]}000" if case.third_code else None

    def _grid_worker(self, case: DemoCase, leader: bool = False) -> Person:
        assert case.third_code, "every demo case has a grid to patrol it"
        slug = _grid_slug(case.third_code)
        name = f"{slug}-gl" if leader else f"{slug}-gw{self._pick(GRID_WORKERS_PER_GRID)}"
        return Person(name, "grid_leader" if leader else "grid_worker", self._community_unit(case))

    def _community_staff(self, case: DemoCase) -> Person:
        unit = self._community_unit(case)
        if unit is None:
            return self._dispatcher()
        return Person(
            f"{_unit_slug(unit)}-cs{self._pick(STAFF_PER_COMMUNITY)}", "community_staff", unit
        )

    def _dispatcher(self) -> Person:
        return Person(
            f"jd-dispatch{self._pick(DISPATCHERS)}", "street_dispatcher", self.street_unit
        )

    def _admin(self) -> Person:
        return Person("jd-admin", "street_admin", self.street_unit)

    def _handler(self, unit: str) -> Person:
        role = (
            "property_staff"
            if self.unit_kinds.get(unit) == "property_company"
            else "department_handler"
        )
        return Person(f"{_unit_slug(unit)}-h{self._pick(HANDLERS_PER_UNIT)}", role, unit)

    def _reporter(self, case: DemoCase) -> Person:
        if case.source == "grid_patrol":
            return self._grid_worker(case, leader=self.draw.random() < 0.2)
        if case.source == "resident_wechat":
            return Person(f"wx-{self.draw.index(16**8):08x}", "resident")
        company = case.premises.get("courtyard_company")
        if case.source == "property_company" and company:
            return self._handler(company)
        return Person(case.source, "reporter")  # as create_case records a report without actor

    def _pick(self, n: int) -> int:
        return self.draw.index(n) + 1

    # --- time ----------------------------------------------------------------------------

    def _share(self, step: str, length_s: float) -> float:
        """How much of a step's limit the step takes: mostly well within, some late."""
        r = self.draw.random()
        if r < STALLED[step]:
            days = self.draw.uniform(*STALLED_WORKING_DAYS)
            return days * self.calendar.day_length().total_seconds() / length_s
        if r < STALLED[step] + LATE[step]:
            return 1.0 + self.draw.exponential(0.5)
        # On time: spread over the whole limit, more of it used than not (as in practice).
        return 0.03 + 0.94 * self.draw.beta(2.0, 1.4)

    def _planned_share(self, run: CaseRun, plan: _Plan) -> float:
        """The share of the running clock this step uses, drawn once per clock."""
        row = run.row
        key = (row["step"], row["step_started_at"], row["step_length_s"])
        if key not in plan.shares:
            plan.shares[key] = self._share(row["step"], row["step_length_s"])
        return plan.shares[key]

    def _file_stage_share(self, run: CaseRun, plan: _Plan, stage: int) -> float:
        """When screening (0), filing (1) or dispatch (2) happens, as a share of the file step."""
        share = self._planned_share(run, plan)
        key = ("late stage", run.row["step_started_at"])
        if key not in plan.shares:
            plan.shares[key] = self.draw.choice(LATE_FILE_STAGE)
        extra = max(share - 1.0, 0.0) if stage >= plan.shares[key] else 0.0
        return FILE_STAGES[stage] * min(share, 1.0) + extra

    def _when(self, run: CaseRun, share: float) -> datetime:
        """The moment `share` of the running step's clock is used (a few minutes at least)."""
        row = run.row
        basis, length = row["step_basis"], row["step_length_s"]
        gap = self.draw.uniform(60, 600)
        if run.clock_as_started:  # one step of calendar arithmetic instead of two
            at = self._after(basis, row["step_started_at"], share * length)
            if at >= run.last_at + timedelta(seconds=gap):
                return at
            return self._after(basis, run.last_at, gap)
        left = step_clock.remaining_s(self.calendar, basis, run.last_at, row["due_at"])
        more = share * length - (length - left)
        return self._after(basis, run.last_at, max(more, gap))

    def _after(self, basis: str, at: datetime, seconds: float) -> datetime:
        amount = timedelta(seconds=round(seconds))
        if basis == "wall":
            return at + amount
        return self.calendar.add_working_time(at, amount)

    def _working_hours_later(self, at: datetime, low: float, high: float) -> datetime:
        return self._after("work", at, self.draw.uniform(low, high) * 3600)

    # --- the run -------------------------------------------------------------------------

    def simulate(self, case: DemoCase) -> CaseRun:
        """The case's history from its report up to the reference now."""
        run = CaseRun(case, self._reporter(case), self.calendar, self.settings, self._limits)
        self.runs[case.id] = run
        patrol = (
            self._person_of(run.events[0])
            if run.events[0].role in workflow.GRID_STAFF
            else self._grid_worker(case)
        )
        plan = _Plan(patrol=patrol, park_from=self._park_from(case))
        try:
            if self._outside_voided(run) or self._self_handled(run):
                return run
            while self._phases.get(run.status, _stop)(run, plan):
                pass
        except _AfterNow:
            pass
        return run

    def _do(self, run: CaseRun, action: str, who: Person, at: datetime, **fields: Any) -> None:
        if at > self.now:
            raise _AfterNow
        run.move(action, who, at, **fields)

    def _park_from(self, case: DemoCase) -> str | None:
        code = case.category["code"] if case.category else None
        if self.draw.random() >= PARKED.get(code or "", PARKED_OTHER):
            return None
        return ("filed", "dispatched", "handling")[self.draw.choice((0.1, 0.2, 0.7))]

    def _outside_voided(self, run: CaseRun) -> bool:
        if not run.case.outside or self.draw.random() >= OUTSIDE_VOIDED:
            return False
        at = self._when(run, 0.5 * self._share("file", run.row["step_length_s"]))
        reason = "不在本街道辖区，已转相邻街道办理"
        self._do(run, "void", self._dispatcher(), at, reason=reason, report_valid=True)
        return True

    def _self_handled(self, run: CaseRun) -> bool:
        case, first = run.case, run.events[0]
        if not (
            case.source == "grid_patrol"
            and case.category
            and case.category["self_handle_allowed"]
            and self.draw.random() < SELF_HANDLED
        ):
            return False
        # Recorded as soon as it is fixed: the report carries the photo from before.
        at = first.at + timedelta(seconds=round(self.draw.uniform(2 * 60, 25 * 60)))
        note = "已现场处置：劝导整改完毕，附处置后照片"
        self._do(run, "self_handle", self._person_of(first), at, note=note)
        return True

    @staticmethod
    def _person_of(event: Event) -> Person:
        return Person(event.actor, event.role, event.unit_code)

    # --- phases: one call decides the next move from the case's state ----------------------

    def _screen(self, run: CaseRun, plan: _Plan) -> bool:
        """社区汇总: the community screens, merges a duplicate, returns or voids a report."""
        case, rng = run.case, self.draw
        at = self._when(run, self._file_stage_share(run, plan, 0))
        who = self._community_staff(case)
        if "merge" not in plan.done and case.duplicates_of:
            plan.done.add("merge")
            # A report of a problem whose earlier case is finished is a recurrence: a case.
            target = self._open_duplicate_target(case, at) if rng.random() < MERGED else None
            if target is not None:
                note = "与已上报案件重复，合并办理"
                self._do(run, "merge", who, at, into=target.case.id, note=note)
                target.add_merged_in(case.id, who, at)
                return False
        r = rng.random()
        if "return" not in plan.done and r < RETURNED:
            plan.done.add("return")
            reason = ("位置描述不清，请补充现场照片", "问题描述不完整，请补充详细情况")[
                rng.index(2)
            ]
            self._do(run, "return", who, at, reason=reason)
        elif "void" not in plan.done and r < RETURNED + VOIDED_AT_SCREENING:
            plan.done.add("void")
            valid = rng.random() < 0.4
            reason = "核实时问题已自行消除" if valid else "经核实不属实"
            self._do(run, "void", who, at, reason=reason, report_valid=valid)
        else:
            self._do(run, "screen", who, at)
        return True

    def _open_duplicate_target(self, case: DemoCase, at: datetime) -> CaseRun | None:
        if at > self.now:
            raise _AfterNow
        for earlier in case.duplicates_of:
            target = self.runs.get(earlier)
            if target is not None and target.status_at(at) not in workflow.FINISHED:
                return target
        return None

    def _after_return(self, run: CaseRun, plan: _Plan) -> bool:
        at = self._working_hours_later(run.last_at, 0.3, 8.0)
        if self.draw.random() < RESUBMITTED:
            reporter = self._person_of(run.events[0])
            who = reporter if reporter.role == "resident" else plan.patrol
            self._do(run, "resubmit", who, at, note="已补充现场照片和详细位置")
            return True
        at = self._working_hours_later(run.last_at, 22.5, 37.5)  # 3 to 5 working days
        reason = "逾期未补充材料"
        self._do(
            run, "void", self._community_staff(run.case), at, reason=reason, report_valid=False
        )
        return False

    def _file(self, run: CaseRun, plan: _Plan) -> bool:
        """立案 by the command centre, or back to the community to check again."""
        at = self._when(run, self._file_stage_share(run, plan, 1))
        if "street_send_back" not in plan.done and self.draw.random() < STREET_SENDS_BACK:
            plan.done.add("street_send_back")
            reason = "请社区核实具体位置和问题性质"
            self._do(run, "send_back", self._dispatcher(), at, reason=reason)
        else:
            self._do(run, "file", self._dispatcher(), at)
        return True

    def _dispatch(self, run: CaseRun, plan: _Plan) -> bool:
        """派遣 by the dispatch rules; after a unit sent it back, to a unit chosen by hand."""
        at = self._when(run, self._file_stage_share(run, plan, 2))
        if "late_void" not in plan.done and self.draw.random() < VOIDED_AFTER_FILING:
            plan.done.add("late_void")
            reason = "经复核，问题已由责任主体自行整改"
            self._do(run, "void", self._dispatcher(), at, reason=reason, report_valid=True)
            return False
        if self._park_here(run, plan, "filed", at):
            return True
        unit, _ = dispatch_by_rules(run.case.premises, run.case.category)
        if run.row["dispatched_at"] is not None or unit is None:
            tried = {e.data.get("unit_code") for e in run.events if e.action == "dispatch"}
            choices = [self._community_unit(run.case), *FALLBACK_UNITS]
            unit = next(u for u in choices if u and u not in tried)
            self._do(run, "dispatch", self._dispatcher(), at, unit_code=unit)
        else:
            self._do(run, "dispatch", self._dispatcher(), at)
        plan.handler = None
        return True

    def _park_here(self, run: CaseRun, plan: _Plan, state: str, at: datetime) -> bool:
        if plan.park_from != state or "park" in plan.done:
            return False
        plan.done.add("park")
        who = self._admin() if self.draw.random() < 0.3 else self._dispatcher()
        reason = (
            "需纳入年度维修计划，待资金落实",
            "需多部门联合执法，待统一安排",
            "受季节条件限制，暂缓处置",
        )[self.draw.index(3)]
        self._do(run, "park", who, at, reason=reason)
        return True

    def _unit_handler(self, run: CaseRun, plan: _Plan) -> Person:
        if plan.handler is None:
            plan.handler = self._handler(run.row["unit_code"])
        return plan.handler

    def _accept(self, run: CaseRun, plan: _Plan) -> bool:
        """签收, or "not ours": the unit sends the case back for another dispatch."""
        handle_share = self._planned_share(run, plan)
        share = min(self.draw.uniform(0.02, 0.12), 0.5 * handle_share)
        if handle_share > 3 and self.draw.random() < UNACCEPTED:
            share = 0.5 * handle_share
        at = self._when(run, share)
        who = self._unit_handler(run, plan)
        if "unit_send_back" not in plan.done and self.draw.random() < UNIT_SENDS_BACK:
            plan.done.add("unit_send_back")
            reason = "经核实不属于本单位职责，请重新派遣"
            self._do(run, "decline", who, at, reason=reason)
            return True
        if self._park_here(run, plan, "dispatched", at):
            return True
        self._do(run, "accept", who, at)
        return True

    def _handle(self, run: CaseRun, plan: _Plan) -> bool:
        """处置 and 反馈, with extensions, escalation and parking on the way."""
        rng, row = self.draw, run.row
        share = self._planned_share(run, plan)
        who = self._unit_handler(run, plan)
        if plan.park_from == "handling" and "park" not in plan.done:
            # Parking is asked for when the deadline comes near and the work cannot be done.
            at = self._when(run, self.draw.uniform(*PARKED_AT_SHARE))
            return self._park_here(run, plan, "handling", at)
        limit = run.limit("handle", row["urgent"])
        if "extension" not in plan.done and limit.unit == "wd" and rng.random() < EXTENSION_ASKED:
            plan.done.add("extension")
            asked = self._when(run, rng.uniform(0.5, 0.85))
            if asked < self._when(run, share):
                extension = f"{1 + rng.index(3)}wd"
                reason = "需协调多部门或采购配件，申请延期"
                self._do(run, "request_extension", who, asked, reason=reason, extension=extension)
                at = self._working_hours_later(asked, 0.25, 4.0)
                if rng.random() < EXTENSION_APPROVED:
                    self._do(run, "approve_extension", self._dispatcher(), at)
                else:
                    reason = "可在原时限内完成，不予延期"
                    self._do(run, "reject_extension", self._dispatcher(), at, reason=reason)
                return True
        back = self._when(run, share)
        if share > 1 and "escalate" not in plan.done:
            plan.done.add("escalate")
            if rng.random() < ESCALATED[share > 3]:
                at = self._when(run, 1 + rng.uniform(0.02, 0.3))
                if at < back:
                    note = "超期未办结，请加快处置并反馈"
                    self._do(run, "escalate", self._admin(), at, note=note)
                    return True
        note = ("已处置完毕，附处置前后照片", "已清理完毕", "已维修完毕，恢复正常")[rng.index(3)]
        self._do(run, "report_back", who, back, note=note)
        return True

    def _verify(self, run: CaseRun, plan: _Plan) -> bool:
        """核查: the grid worker (or community staff) checks on site; a failure is rework."""
        rng = self.draw
        at = self._when(run, self._planned_share(run, plan))
        who = plan.patrol if rng.random() < 0.8 else self._community_staff(run.case)
        rework = run.row["rework_count"]
        failed = rework < len(REWORK) and rng.random() < REWORK[rework]
        if failed:
            self._do(run, "verify", who, at, verdict="failed", note="现场核查未整改到位，返工")
        else:
            self._do(run, "verify", who, at, verdict="passed", note="现场核查已整改到位")
        return True

    def _close(self, run: CaseRun, plan: _Plan) -> bool:
        self._do(run, "close", self._dispatcher(), self._when(run, self._planned_share(run, plan)))
        return True

    def _evaluate(self, run: CaseRun, plan: _Plan) -> bool:
        """评价: residents rate their own reports; the community calls the others back (回访)."""
        rng, case = self.draw, run.case
        if rng.random() >= EVALUATED.get(case.source, EVALUATED_OTHER):
            return False
        reporter = self._person_of(run.events[0])
        who = reporter if reporter.role == "resident" else self._community_staff(case)
        trouble = run.row["late_steps"] or run.row["rework_count"]
        stars = 1 + rng.choice(SATISFACTION_AFTER_TROUBLE if trouble else SATISFACTION)
        at = self._working_hours_later(run.last_at, 0.5, 22.5)
        self._do(run, "evaluate", who, at, satisfaction=stars, note="回访：对处置结果的评价")
        return False

    def _resume(self, run: CaseRun, plan: _Plan) -> bool:
        median, spread = PARKED_DAYS
        days = min(max(self.draw.lognormal(math.log(median), spread), 3.0), 365.0)
        at = self._working_hours_later(run.last_at + timedelta(days=days), 0.2, 5.0)
        self._do(run, "resume", self._dispatcher(), at)
        return True


def _stop(run: CaseRun, plan: _Plan) -> bool:
    return False


def _grid_slug(code: str) -> str:
    """ "410105001003002" (community 3, grid 2) → "sq3-02"."""
    return f"sq{int(code[9:12])}-{int(code[12:15]):02d}"


def _unit_slug(unit: str) -> str:
    """D09 → d09; community:410105001003000 → sq3; unit:410105001ZS002 → zs002; street → jd."""
    kind, _, code = unit.partition(":")
    if not code:
        return unit.lower()
    if kind == "community":
        return f"sq{int(code[9:12])}"
    if kind == "street":
        return "jd"
    return code[-5:].lower()
