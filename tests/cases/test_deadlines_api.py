"""Deadlines and lights of cases through the API, on the work calendar in Beijing time."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.cases.test_workflow_api import (
    COMMUNITY,
    DISPATCHER,
    GARBAGE,
    IN_WEST,
    WORKER,
    act,
    report,
)
from tests.cases.test_workflow_api import street as street  # noqa: F401 - fixture
from tests.helpers import load_grids
from tests.shared_data import geo_fault

from onegrid.units import repository as units_repo
from onegrid.units import service as units_service

TODAY_END = "09999"  # a test type due by the end of the next local calendar day (B22's rule)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def handling_due(client, clock, when: str) -> datetime:
    """Dispatch a fresh garbage case (1 working day to handle) at `when`; its due time."""
    clock.set(when)
    case = report(client)
    case = act(client, case, "screen", COMMUNITY)
    case = act(client, case, "file", DISPATCHER)
    case = act(client, case, "dispatch", DISPATCHER)
    assert case["step"] == "handle"
    return at(case["due_at"])


def test_a_working_day_limit_skips_the_weekend(client, street, clock):
    # Friday 16:00 + 1 working day = Monday 16:00.
    assert handling_due(client, clock, "2026-11-27T16:00:00+08:00") == at(
        "2026-11-30T16:00:00+08:00"
    )


def test_a_working_day_limit_skips_the_national_day_holiday_and_counts_the_make_up_day(
    client, street, clock
):
    # Wednesday 30 September 2026 10:00: 1-7 October are off, Saturday 10 October is a
    # make-up working day. 1wd → Thursday 8 October.
    assert handling_due(client, clock, "2026-09-30T10:00:00+08:00") == at(
        "2026-10-08T10:00:00+08:00"
    )
    # Friday 9 October 10:00 + 1wd → the make-up Saturday, 10 October 10:00.
    assert handling_due(client, clock, "2026-10-09T10:00:00+08:00") == at(
        "2026-10-10T10:00:00+08:00"
    )


def test_a_report_before_eight_beijing_time_counts_from_that_day(client, street, clock):
    # Monday 07:30 Beijing time is Sunday 23:30 UTC; the clock starts Monday 08:30 and the
    # 30-minute filing limit ends Monday 09:00, not on Sunday's or Tuesday's calendar.
    clock.set("2026-11-30T07:30:00+08:00")
    case = report(client)
    assert at(case["due_at"]) == at("2026-11-30T09:00:00+08:00")
    assert case["due_at"].endswith("+08:00")


@pytest.fixture
def end_of_next_day_type(street):
    units_repo.upsert_categories(
        street,
        [
            {
                "code": TODAY_END,
                "major_code": "09",
                "major_name": "测试",
                "name": "次日结束前",
                "kind": "event",
                "department": "D01",
                "file_limit": "1cd",
                "handle_limit": "1wd",
                "verify_limit": "1h",
                "urgent": False,
                "property_may_handle": False,
                "self_handle_allowed": False,
            }
        ],
    )


def test_b22_deadline_at_the_end_of_the_next_local_day(client, end_of_next_day_type, clock):
    fault = geo_fault("B22")
    clock.set("2024-06-01T12:00:00+08:00")
    created_0700, created_2330 = fault["input"]["created"]
    early = report(client, category=TODAY_END, reported_at=created_0700)
    late = report(client, category=TODAY_END, reported_at=created_2330)
    assert at(early["due_at"]) == at("2024-05-29T23:59:59+08:00")
    assert at(late["due_at"]) == at("2024-05-28T23:59:59+08:00")
    assert late["due_at"].endswith("+08:00")  # never the +08:06 of pytz's LMT

    overdue = client.get(
        "/api/deadlines", params={"as_of": "2024-05-28T16:00:00Z", "overdue_only": True}
    ).json()
    assert [c["id"] for c in overdue] == [late["id"]]
    assert overdue[0]["deadline"]["light"] == "red"


def test_lights_turn_yellow_at_80_percent_and_red_when_overdue(client, street, clock):
    clock.set("2026-11-30T09:00:00+08:00")  # Monday; 30 working minutes to file
    case = report(client)
    assert case["deadline"]["light"] == "green"
    clock.set("2026-11-30T09:24:00+08:00")
    case = client.get(f"/api/cases/{case['id']}").json()
    assert case["deadline"]["light"] == "yellow" and case["deadline"]["time_used"] == 0.8
    watch = client.get("/api/deadlines", params={"grid": "C1"}).json()
    assert [c["id"] for c in watch] == [case["id"]]
    clock.set("2026-11-30T09:31:00+08:00")
    case = client.get(f"/api/cases/{case['id']}").json()
    assert case["deadline"]["light"] == "red"
    assert client.get("/api/deadlines", params={"grid": "C2"}).json() == []
    late = act(client, case, "screen", COMMUNITY)
    late = act(client, late, "file", DISPATCHER)
    late = act(client, late, "dispatch", DISPATCHER)
    assert late["late_steps"] == 1  # the filing step ended after its due time


def test_urgent_cases_run_on_wall_clock_time(client, street, clock):
    clock.set("2026-11-28T22:00:00+08:00")  # Saturday night
    case = report(client, urgent=True)
    assert at(case["due_at"]) == at("2026-11-28T22:10:00+08:00")  # 10 minutes, not Monday


def test_b21_duplicates_are_suggested_within_50_metres_measured_in_metres(
    client, session, tmp_path
):
    units_service.load_seed(session)
    fault = geo_fault("B21")["input"]
    square = "POLYGON((116.39 39.89, 116.48 39.89, 116.48 39.92, 116.39 39.92, 116.39 39.89))"
    load_grids(session, tmp_path, "street", {"BJ": square})

    def post(wkt: str) -> dict:
        lon, lat = (float(v) for v in wkt.removeprefix("POINT(").rstrip(")").split())
        return report(client, at=(lon, lat), category=GARBAGE)

    first = post(fault["open_case"])
    suggested = {
        name: post(wkt)["possible_duplicates"] for name, wkt in fault["new_reports"].items()
    }
    near = {name for name, found in suggested.items() if first["id"] in [d["id"] for d in found]}
    assert near == {"30m_E", "45m_E"}
    found = next(d for d in suggested["45m_E"] if d["id"] == first["id"])
    assert found["distance_m"] == pytest.approx(45.0, abs=0.5)
    assert found["reported_at"].endswith("+08:00")


def test_a_different_category_is_not_a_duplicate(client, street):
    report(client)
    other = report(client, at=(IN_WEST[0] + 0.0001, IN_WEST[1]), category="01005")
    assert other["possible_duplicates"] == []
    worker_report = report(client, at=(IN_WEST[0] + 0.0001, IN_WEST[1]), headers=WORKER)
    assert len(worker_report["possible_duplicates"]) == 1
