"""The loaded demo street: a year of cases that went through the real workflow.

Reads the demo database the session loads once (tests/conftest.py, `demo_database_url`);
the tests that write do so inside a transaction they roll back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onegrid.auth.actor import ROLES, Actor
from onegrid.auth.scope import EVERYTHING
from onegrid.cases import service as cases_service
from onegrid.cases import step_clock, workflow
from onegrid.cases.deadlines import TIME_ZONE, WorkCalendar
from onegrid.cases.taxonomy import read_categories
from onegrid.db import engine as db_engine
from onegrid.demo.generate import reference_now
from onegrid.demo.lifecycle import WORKFLOW_COLUMNS
from onegrid.demo.load import load_demo_street
from onegrid.settings import get_settings
from onegrid.units import service as units_service

NOW = reference_now(2025)
OPEN_STATES = sorted(workflow.OPEN)
EVENT_FIELDS = ("action", "from_status", "to_status", "actor", "role", "unit_code", "at")
EVENT_FIELDS += ("note", "data", "late")


@pytest.fixture(scope="module")
def demo_engine(demo_database_url: str) -> Iterator[Engine]:
    engine = db_engine.make_engine(demo_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def cases(demo_engine: Engine) -> dict[int, dict[str, Any]]:
    with demo_engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT *, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM cases ORDER BY id")
        )
        return {r.id: dict(r._mapping) for r in rows}


@pytest.fixture(scope="module")
def events(demo_engine: Engine) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    with demo_engine.connect() as conn:
        for r in conn.execute(sa.text("SELECT * FROM case_events ORDER BY case_id, seq")):
            grouped.setdefault(r.case_id, []).append(dict(r._mapping))
    return grouped


@pytest.fixture(scope="module")
def categories(demo_engine: Engine) -> dict[str, dict[str, Any]]:
    with demo_engine.connect() as conn:
        return {
            r.code: dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM case_categories"))
        }


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    settings = get_settings()
    return WorkCalendar.load(settings.work_calendar_file, settings.work_hours)


@pytest.fixture
def rolled_back(demo_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on the demo database whose work is rolled back after the test."""
    with demo_engine.connect() as conn:
        outer = conn.begin()
        yield sessionmaker(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        outer.rollback()


def test_the_seed_and_the_property_companies_are_loaded_and_courtyards_have_managers(
    demo_engine: Engine, categories: dict[str, dict[str, Any]]
) -> None:
    assert set(categories) == {c.code for c in read_categories()}
    with demo_engine.connect() as conn:
        companies = {
            code: name
            for code, name in conn.execute(
                sa.text("SELECT code, name FROM units WHERE kind = 'property_company'")
            )
        }
        courtyards = conn.execute(
            sa.text(
                "SELECT management_status, manager_unit_code FROM places WHERE kind = 'courtyard'"
            )
        ).all()
    assert 4 <= len(companies) <= 6
    assert any("红色物业" in name for name in companies.values())
    for status, manager in courtyards:
        if status == "unmanaged":
            assert manager is None
        else:
            assert manager in companies
            assert ("红色物业" in companies[manager]) == (status == "red_property")
    assert {status for status, _ in courtyards} == {"property_managed", "red_property", "unmanaged"}


def test_every_case_type_is_a_seed_category_under_its_seed_name(
    cases: dict[int, dict[str, Any]], categories: dict[str, dict[str, Any]]
) -> None:
    for case in cases.values():
        if case["category_code"] is None:
            assert case["category"] == "其他", case["external_id"]
        else:
            assert categories[case["category_code"]]["name"] == case["category"]
    assert len({c["category_code"] for c in cases.values()}) >= 20
    assert sum(c["category_code"] is None for c in cases.values()) >= 20


def test_every_case_is_in_its_last_events_state_with_one_version_per_event(
    cases: dict[int, dict[str, Any]], events: dict[int, list[dict[str, Any]]]
) -> None:
    assert len(cases) == 6000 and set(events) == set(cases)
    for case_id, case in cases.items():
        history = events[case_id]
        assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
        assert case["status"] == history[-1]["to_status"], case["external_id"]
        assert case["version"] == len(history), case["external_id"]
        first = history[0]
        assert (first["action"], first["from_status"], first["to_status"]) == (
            "report",
            None,
            "reported",
        )
        assert first["at"] == case["reported_at"]
        times = [e["at"] for e in history]
        assert times == sorted(times) and times[-1] <= NOW
    # About nine for a case that went the whole way; two for one fixed on the spot.
    assert 7 <= sum(len(h) for h in events.values()) / len(cases) <= 10


def test_every_move_is_one_the_workflow_allows_for_the_actors_role_and_unit(
    events: dict[int, list[dict[str, Any]]],
) -> None:
    checked = 0
    for history in events.values():
        state, unit, parked_from = "reported", None, None
        for e in history[1:]:
            assert e["from_status"] == state, e
            if e["action"] == "merged_in":  # the event on the case a duplicate joins
                assert e["to_status"] == state
                continue
            fields = {"note": e["note"], "reason": e["note"], **e["data"]}
            target = workflow.check_transition(e["action"], state, e["role"], fields)
            target = {
                workflow.SAME: state,
                workflow.RESUMED: parked_from,
                workflow.BY_VERDICT: "verified"
                if e["data"].get("verdict") == "passed"
                else "handling",
            }.get(target, target)
            assert target == e["to_status"], e
            if workflow.TRANSITIONS[e["action"]].own_unit_only:
                assert e["unit_code"] == unit, e
            if e["action"] == "dispatch":
                unit = e["data"]["unit_code"]
            if e["action"] == "park":
                parked_from = state
            state = e["to_status"]
            checked += 1
    assert checked > 35_000


def test_actors_are_ascii_user_ids_that_say_their_role(
    events: dict[int, list[dict[str, Any]]],
) -> None:
    patterns = {
        "grid_worker": r"sq\d-\d{2}-gw\d",
        "grid_leader": r"sq\d-\d{2}-gl",
        "community_staff": r"sq\d-cs\d",
        "street_dispatcher": r"jd-dispatch\d",
        "street_admin": r"jd-admin",
        "department_handler": r"(d\d\d|s\d\d|sq\d|zs\d{3})-h\d",
        "property_staff": r"p\d\d-h\d",
        "resident": r"wx-[0-9a-f]{8}",
        "reporter": "|".join(cases_service.SOURCES),
    }
    roles = Counter()
    for history in events.values():
        for e in history:
            assert e["role"] in ROLES or e["role"] == "reporter"
            assert re.fullmatch(patterns[e["role"]], e["actor"]), (e["role"], e["actor"])
            roles[e["role"]] += 1
    assert set(roles) == set(patterns)


def test_case_rows_carry_the_milestones_counters_and_clock_of_their_history(
    cases: dict[int, dict[str, Any]], events: dict[int, list[dict[str, Any]]]
) -> None:
    for case_id, case in cases.items():
        history = events[case_id]

        def last(*actions: str, history=history) -> dict[str, Any] | None:
            return next((e for e in reversed(history) if e["action"] in actions), None)

        def at(*actions: str) -> Any:
            event = last(*actions)
            return event["at"] if event else None

        assert case["filed_at"] == at("file")
        assert case["dispatched_at"] == at("dispatch")
        assert case["reported_back_at"] == at("report_back")
        assert case["closed_at"] == at("close", "self_handle")
        dispatch = last("dispatch")
        assert case["unit_code"] == (dispatch["data"]["unit_code"] if dispatch else None)
        assert case["dispatch_rule"] == (dispatch["data"]["dispatch_rule"] if dispatch else None)
        verdicts = [e["data"].get("verdict") for e in history if e["action"] == "verify"]
        assert case["rework_count"] == verdicts.count("failed")
        assert case["extension_count"] == sum(e["action"] == "approve_extension" for e in history)
        assert case["late_steps"] == sum(e["late"] for e in history)
        assert case["escalated"] == any(e["action"] == "escalate" for e in history)
        evaluation = last("evaluate")
        assert case["satisfaction"] == (evaluation["data"]["satisfaction"] if evaluation else None)
        void = last("void")
        assert case["voided_valid"] == (void["data"]["report_valid"] if void else None)
        merge = last("merge")
        assert case["merged_into"] == (merge["data"]["into"] if merge else None)
        if case["status"] == "parked":
            assert case["parked_from"] == last("park")["from_status"]
            assert case["parked_remaining_s"] is not None and case["due_at"] is None
        elif case["status"] in workflow.STEP_OF_STATUS:
            assert case["step"] == workflow.STEP_OF_STATUS[case["status"]]
            assert case["warn_at"] <= case["due_at"]
        else:
            assert case["step"] is None and case["due_at"] is None


def _replay(
    session: Session,
    group: list[int],
    cases: dict[int, dict[str, Any]],
    events: dict[int, list[dict[str, Any]]],
    calendar: WorkCalendar,
) -> dict[int, int]:
    """Report the cases of `group` again and apply their moves through cases.service, in
    the order they happened; returns demo case id -> replayed case id."""
    settings = get_settings()
    ids: dict[int, int] = {}
    for case_id in group:
        case, first = cases[case_id], events[case_id][0]
        reporter = (
            None
            if first["role"] == "reporter"
            else Actor(first["actor"], first["role"], first["unit_code"])
        )
        replay, _ = cases_service.create_case(
            session,
            {
                "external_id": f"replay-{case['external_id']}",
                "lon": case["lon"],
                "lat": case["lat"],
                "reported_at": case["reported_at"],
                "category": case["category"],
                "category_code": case["category_code"],
                "description": case["description"],
                "source": case["source"],
            },
            now=case["reported_at"],
            calendar=calendar,
            settings=settings,
            reporter=reporter,
        )
        ids[case_id] = replay["id"]
    moves = sorted(
        (e["at"], case_id, e["seq"], e)
        for case_id in group
        for e in events[case_id][1:]
        if e["action"] != "merged_in"  # the service writes it when the duplicate merges
    )
    for _, case_id, _, e in moves:
        version = session.scalar(
            sa.text("SELECT version FROM cases WHERE id = :id"), {"id": ids[case_id]}
        )
        fields = {"version": version, **e["data"]}
        fields.pop("due_at", None)
        fields.pop("parked_s", None)
        if e["note"]:
            fields["note"] = fields["reason"] = e["note"]
        if e["action"] != "dispatch" or e["data"]["dispatch_rule"] != "chosen_by_dispatcher":
            fields.pop("unit_code", None)
        if e["action"] == "merge":
            fields["into"] = ids[e["data"]["into"]]
        cases_service.transition_case(
            session,
            ids[case_id],
            e["action"],
            fields,
            actor=Actor(e["actor"], e["role"], e["unit_code"]),
            scope=EVERYTHING,  # the replay is about moves, not about who sees what
            now=e["at"].astimezone(TIME_ZONE),
            calendar=calendar,
            settings=settings,
        )
    return ids


def _with_ids(value: Any, ids: dict[int, int]) -> Any:
    """A demo event's data or note with the demo case ids replaced by the replayed ones."""
    if isinstance(value, dict):
        return {k: ids[v] if k in ("into", "duplicate") else v for k, v in value.items()}
    if isinstance(value, str):
        return re.sub(r"^case (\d+) merged", lambda m: f"case {ids[int(m[1])]} merged", value)
    return value


def test_a_sample_replayed_through_the_service_ends_exactly_as_loaded(
    rolled_back: sessionmaker[Session],
    cases: dict[int, dict[str, Any]],
    events: dict[int, list[dict[str, Any]]],
    calendar: WorkCalendar,
) -> None:
    """One case of every path (every sequence of actions), and a duplicate with the case it
    was merged into, replayed move by move through cases.service as the API applies moves:
    the same history and the same rows."""
    by_path: dict[tuple[str, ...], int] = {}
    for case_id, history in events.items():
        path = tuple(e["action"] for e in history)
        if not {"merge", "merged_in"} & set(path):
            by_path.setdefault(path, case_id)
    groups = [[case_id] for case_id in sorted(by_path.values())]
    duplicate = next(
        case_id
        for case_id, case in sorted(cases.items())
        if case["merged_into"]
        and sum(e["action"] == "merged_in" for e in events[case["merged_into"]]) == 1
    )
    groups.append([cases[duplicate]["merged_into"], duplicate])
    replayed_actions = {e["action"] for group in groups for c in group for e in events[c]}
    assert replayed_actions == {"report", "merged_in", *workflow.TRANSITIONS}
    with rolled_back() as session, session.begin():
        for group in groups:
            ids = _replay(session, group, cases, events, calendar)
            for case_id, replay_id in ids.items():
                case = cases[case_id]
                stored = (
                    session.execute(
                        sa.text("SELECT * FROM cases WHERE id = :id"), {"id": replay_id}
                    )
                    .one()
                    ._mapping
                )
                for column in WORKFLOW_COLUMNS:
                    expected = case[column]
                    if column == "merged_into" and expected is not None:
                        expected = ids[expected]
                    assert stored[column] == expected, (case["external_id"], column)
                history = cases_service.case_history(session, replay_id, scope=EVERYTHING)
                assert [[r[f] for f in EVENT_FIELDS] for r in history] == [
                    [_with_ids(e[f], ids) for f in EVENT_FIELDS] for e in events[case_id]
                ], case["external_id"]
    assert len(groups) >= 50


def test_most_cases_are_finished_and_some_of_every_open_kind_remain(
    cases: dict[int, dict[str, Any]],
) -> None:
    states = Counter(c["status"] for c in cases.values())
    total = len(cases)
    assert (states["closed"] + states["evaluated"]) / total > 0.85
    assert 0.15 < states["evaluated"] / (states["closed"] + states["evaluated"]) < 0.5
    assert 0.01 < states["voided"] / total < 0.06
    assert 0.01 < states["merged"] / total < 0.05
    assert sum(states[s] for s in OPEN_STATES) / total < 0.05
    for state in ("reported", "screened", "filed", "dispatched", "handling", "reported_back"):
        assert states[state] >= 1, state
    assert states["verified"] >= 1 and states["parked"] >= 5
    first_half = [c for c in cases.values() if c["reported_at"].month <= 6]
    still_open = [c for c in first_half if c["status"] in workflow.OPEN]
    assert len(still_open) / len(first_half) < 0.01
    last_days = [c for c in cases.values() if c["reported_at"] >= NOW - timedelta(days=3)]
    assert sum(c["status"] in workflow.OPEN for c in last_days) / len(last_days) > 0.1


def test_at_the_reference_now_some_open_cases_are_red_and_some_yellow(
    cases: dict[int, dict[str, Any]], calendar: WorkCalendar
) -> None:
    lights = Counter()
    for case in cases.values():
        if case["status"] in workflow.OPEN:
            light = step_clock.light(calendar, case, NOW)
            lights[(light or {}).get("light")] += 1
    assert lights["red"] >= 10
    assert lights["yellow"] >= 1
    assert lights["green"] >= 5
    # Overdue and 80 %-used running steps are what the deadline watch lists.
    running_red = [
        c for c in cases.values() if c["status"] in workflow.STEP_OF_STATUS and c["due_at"] < NOW
    ]
    assert len(running_red) >= 10


def test_every_side_path_of_the_workflow_occurs(
    cases: dict[int, dict[str, Any]], events: dict[int, list[dict[str, Any]]]
) -> None:
    actions = Counter(e["action"] for history in events.values() for e in history)
    assert set(actions) == {"report", "merged_in", *workflow.TRANSITIONS}
    assert (
        actions["self_handle"] > 200
        and actions["send_back"] + actions["decline"] > 50
        and actions["park"] > 20
    )
    assert {c["rework_count"] for c in cases.values()} >= {0, 1, 2}
    assert {c["voided_valid"] for c in cases.values() if c["status"] == "voided"} == {True, False}
    assert {c["satisfaction"] for c in cases.values() if c["status"] == "evaluated"} == {
        1,
        2,
        3,
        4,
        5,
    }
    late = sum(e["late"] for history in events.values() for e in history)
    steps = sum(
        e["action"] in ("dispatch", "report_back", "verify", "close", "self_handle")
        for history in events.values()
        for e in history
    )
    assert 0.02 < late / steps < 0.15  # most steps on time, some late
    assert sum(c["escalated"] for c in cases.values()) > 30
    assert any(c["extension_count"] for c in cases.values())


def test_every_dispatch_rule_occurs_and_agrees_with_the_service(
    rolled_back: sessionmaker[Session],
    cases: dict[int, dict[str, Any]],
    events: dict[int, list[dict[str, Any]]],
) -> None:
    first_dispatch = {
        case_id: next(e["data"] for e in history if e["action"] == "dispatch")
        for case_id, history in events.items()
        if any(e["action"] == "dispatch" for e in history)
    }
    rules = Counter(d["dispatch_rule"] for d in first_dispatch.values())
    assert {"category_department", "courtyard_company", "dedicated_unit", "community"} <= set(rules)
    assert rules.most_common(1)[0][0] == "category_department"
    assert set(Counter(c["dispatch_rule"] for c in cases.values())) > set(rules)  # re-dispatches
    sample = [
        case_id
        for n, (case_id, d) in enumerate(sorted(first_dispatch.items()))
        if d["dispatch_rule"] != "category_department" or n % 10 == 0
    ]
    with rolled_back() as session:
        for case_id in sample:
            d = first_dispatch[case_id]
            if d["dispatch_rule"] == "chosen_by_dispatcher":
                continue
            chosen = units_service.choose_unit(session, case_id)
            assert chosen == (d["unit_code"], d["dispatch_rule"]), cases[case_id]["external_id"]


def _snapshot(session: Session) -> tuple[list[Any], list[Any], list[Any]]:
    columns = ", ".join(f"c.{c}" for c in WORKFLOW_COLUMNS if c != "merged_into")
    case_rows = session.execute(
        sa.text(
            f"""
            SELECT c.id, c.external_id, c.category, c.category_code, {columns},
                   m.external_id AS merged_into, c.third_grid_id, c.dedicated_grid_id
            FROM cases c LEFT JOIN cases m ON m.id = c.merged_into
            ORDER BY c.external_id
            """
        )
    ).all()
    event_rows = session.execute(
        sa.text(
            f"""
            SELECT c.external_id, e.seq, {", ".join("e." + f for f in EVENT_FIELDS)}
            FROM case_events e JOIN cases c ON c.id = e.case_id
            ORDER BY c.external_id, e.seq
            """
        )
    ).all()
    places = session.execute(
        sa.text("SELECT kind, code, manager_unit_code FROM places ORDER BY kind, code")
    ).all()
    return [tuple(r) for r in case_rows], [tuple(r) for r in event_rows], [tuple(r) for r in places]


def test_loading_again_is_skipped_and_a_reset_reload_gives_the_same_street(
    rolled_back: sessionmaker[Session], tmp_path: Path
) -> None:
    messages: list[str] = []
    with rolled_back() as session:
        before = _snapshot(session)
    assert load_demo_street(rolled_back, tmp_path / "again", progress=messages.append) == {}
    assert messages == ["demo street already loaded (use --reset to reload)"]
    counts = load_demo_street(rolled_back, tmp_path / "reset", reset=True, progress=messages.append)
    assert counts["cases"] == 6000 and counts["case_events"] == len(before[1])
    with rolled_back() as session:
        after = _snapshot(session)
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert after[2] == before[2]
