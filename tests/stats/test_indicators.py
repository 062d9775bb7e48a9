"""Case indicators from lifecycles walked through the API, checked against counts by hand."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from tests.cases.test_workflow_api import (
    COMMUNITY,
    DISPATCHER,
    EAST,
    EAST_COMMUNITY,
    POSTERS,
    WORKER,
    act,
    dispatched,
    handler,
    report,
)
from tests.cases.test_workflow_api import street as street  # noqa: F401 - fixture
from tests.helpers import Persona, write_grid_file
from typer.testing import CliRunner

from onegrid import cli
from onegrid.grids import service as grids_service

WORKER2 = Persona("liuwei", "grid_worker", grid="C2-01")
IN_EAST = (113.616, 34.765)  # community C2, outside the courtyard

MONDAY_9 = "2026-11-30T09:00:00+08:00"  # reports, filing and dispatch
MONDAY_11 = "2026-11-30T11:00:00+08:00"  # handling, verification and closing, on time
# Past the garbage cases' handling deadline: 1 working day after dispatch, Tuesday 09:00.
WEDNESDAY_10 = "2026-12-02T10:00:00+08:00"
AS_OF = "2026-12-02T12:00:00+08:00"
NOVEMBER = {"from": "2026-11-01", "to": "2026-12-01", "as_of": AS_OF}

D02 = "丰产路街道综合行政执法中队"
D09 = "金水区环境卫生服务中心丰产路环卫所"
C2_RENAMED = "东区社区"


def current(client, case):
    return client.get(f"/api/cases/{case['id']}").json()


def handled(client, case, unit="D09"):
    case = act(client, case, "accept", handler(unit))
    return act(client, case, "report_back", handler(unit), note="已处置")


def closed(client, case):
    verifier = WORKER if case["second_code"] == "C1" else WORKER2  # the grid's own staff
    case = act(client, case, "verify", verifier, verdict="passed", note="合格")
    return act(client, case, "close", DISPATCHER)


@pytest.fixture
def scenario(client, street, clock, tmp_path):
    """November's cases, walked through the API. West (community C1), reported by wangfang:
    w1, w2 closed on time and rated 5 and 2; w3 reworked once, then closed on time; w4 in
    handling with an approved extension; w5 voided as a valid report, w6 as an invalid one;
    w7 parked; w8 self-handled; w9 reported on 1 November 00:30 Beijing time (31 October in
    UTC) and never screened: overdue. East (community C2): e1 reported by wangfang, dispatched
    to D02, reported back late, closed and rated 4; e3 reported by liuwei after C2 got a new
    boundary version, merged into e1. Outside November in Beijing time: x0 (31 October 23:59)
    and x1 (1 December 07:30, still 30 November in UTC).

    Garbage cases handled at 11:00 were dispatched at 09:00: 2 hours each; e1 took 49 hours.
    """
    c = {}
    clock.set(MONDAY_9)
    for name in ("w1", "w2", "w3", "w4", "w7"):
        c[name] = dispatched(client, report(client))
    c["w5"] = act(client, report(client), "screen", COMMUNITY)
    c["w5"] = act(client, c["w5"], "void", COMMUNITY, reason="已自行解决", report_valid=True)
    c["w6"] = act(client, report(client), "void", COMMUNITY, reason="不是问题", report_valid=False)
    c["w8"] = act(client, report(client, category=POSTERS), "self_handle", WORKER, note="已清理")
    c["w9"] = report(client, reported_at="2026-11-01T00:30:00+08:00")
    c["x0"] = report(client, reported_at="2026-10-31T23:59:00+08:00")
    e1 = act(client, report(client, at=IN_EAST), "screen", EAST_COMMUNITY)
    e1 = act(client, e1, "file", DISPATCHER)
    c["e1"] = act(client, e1, "dispatch", DISPATCHER, unit_code="D02")
    # A new name makes a new boundary version of C2: e3 is assigned under it, e1 is not.
    path = write_grid_file(tmp_path / "c2.geojson", {"C2": EAST}, name={"C2": C2_RENAMED})
    renamed = grids_service.import_grids(street, path, level="second")
    assert renamed.summary["new boundary versions"] == 1
    grids_service.write_grids(street, "second")
    street.flush()
    e3 = report(client, at=(IN_EAST[0] + 0.0001, IN_EAST[1]), headers=WORKER2)
    c["e3"] = act(client, e3, "merge", EAST_COMMUNITY, into=c["e1"]["id"])

    clock.set(MONDAY_11)
    for name, rating in (("w1", 5), ("w2", 2)):
        case = closed(client, handled(client, c[name]))
        c[name] = act(client, case, "evaluate", COMMUNITY, satisfaction=rating)
    w3 = handled(client, c["w3"])
    w3 = act(client, w3, "verify", WORKER, verdict="failed", note="仍有垃圾")
    c["w3"] = closed(client, act(client, w3, "report_back", handler("D09"), note="再次处置"))
    w4 = act(client, c["w4"], "accept", handler("D09"))
    w4 = act(client, w4, "request_extension", handler("D09"), reason="需协调", extension="2wd")
    c["w4"] = act(client, w4, "approve_extension", DISPATCHER)
    c["w7"] = act(client, c["w7"], "park", DISPATCHER, reason="等待产权单位确认")
    c["e1"] = act(client, current(client, c["e1"]), "accept", handler("D02"))

    clock.set(WEDNESDAY_10)
    e1 = act(client, c["e1"], "report_back", handler("D02"), note="已处置")  # late
    e1 = closed(client, e1)
    c["e1"] = act(client, e1, "evaluate", EAST_COMMUNITY, satisfaction=4)
    c["x1"] = report(client, reported_at="2026-12-01T07:30:00+08:00")
    return c


def test_the_scenario_is_what_the_counts_below_assume(client, scenario, street):
    c = {name: current(client, case) for name, case in scenario.items()}
    assert [c[n]["status"] for n in ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9")] == [
        "evaluated",
        "evaluated",
        "closed",
        "handling",
        "voided",
        "voided",
        "parked",
        "closed",
        "reported",
    ]
    assert (c["e1"]["status"], c["e1"]["late_steps"], c["e3"]["status"]) == (
        "evaluated",
        1,
        "merged",
    )
    assert [c[n]["late_steps"] for n in ("w1", "w2", "w3", "w8")] == [0, 0, 0, 0]
    assert (c["w3"]["rework_count"], c["w4"]["extension_count"]) == (1, 1)
    # Of the open cases, only w9 is past its deadline at AS_OF.
    due = {n: datetime.fromisoformat(c[n]["due_at"]) for n in ("w4", "w9")}
    assert due["w4"] > datetime.fromisoformat(AS_OF) > due["w9"]
    assert c["w7"]["due_at"] is None
    assert c["e1"]["second_code"] == c["e3"]["second_code"] == "C2"
    versions = street.execute(
        sa.text("SELECT count(DISTINCT second_grid_id) FROM cases WHERE id IN (:a, :b)"),
        {"a": c["e1"]["id"], "b": c["e3"]["id"]},
    ).scalar()
    assert versions == 2


def expected(code, name, *, hours=(), ratings=(), **counts):
    """The row the API should give, from counts made by hand: every rate is its numerator
    over its denominator, rounded to 4 places, or None when nothing is in the denominator."""

    def rate(numerator: str, denominator: str) -> dict:
        n, d = counts[numerator], counts[denominator]
        return {"value": round(n / d, 4) if d else None, "numerator": n, "denominator": d}

    counts["should_be_closed"] = counts["closed"] + counts["awaiting_closure"]
    satisfied = sum(1 for r in ratings if r >= 4)
    return {
        "code": code,
        "name": name,
        **counts,
        "closure_rate": rate("closed", "should_be_closed"),
        "on_time_closure_rate": rate("closed_on_time", "should_be_closed"),
        "rework_rate": rate("reworked", "handled"),
        "extension_rate": rate("extended", "dispatched"),
        "valid_report_rate": rate("valid_reports", "reports"),
        "avg_handling_hours": {
            "value": round(sum(hours) / len(hours), 2) if hours else None,
            "total_hours": float(sum(hours)),
            "cases": len(hours),
        },
        "satisfaction": {
            "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "satisfied_share": round(satisfied / len(ratings), 4) if ratings else None,
            "satisfied": satisfied,
            "rated": len(ratings),
        },
    }


# Community C1: w1-w9. Filed w1 w2 w3 w4 w7; closed w1 w2 w3 w8 (all on time); awaiting
# closure w4; valid: the 5 filed, w5 (voided valid), w8 (self-handled).
C1 = expected(
    "C1",
    "grid C1",
    reports=9,
    filed=5,
    closed=4,
    closed_on_time=4,
    self_handled=1,
    awaiting_closure=1,
    parked=1,
    voided=2,
    voided_valid=1,
    merged=0,
    valid_reports=7,
    dispatched=5,
    extended=1,
    handled=3,
    reworked=1,
    overdue=1,
    hours=(2, 2, 2),
    ratings=(5, 2),
)
# Community C2: e1 (closed late) and e3 (merged: a report, but neither valid nor to close).
C2 = expected(
    "C2",
    C2_RENAMED,
    reports=2,
    filed=1,
    closed=1,
    closed_on_time=0,
    self_handled=0,
    awaiting_closure=0,
    parked=0,
    voided=0,
    voided_valid=0,
    merged=1,
    valid_reports=1,
    dispatched=1,
    extended=0,
    handled=1,
    reworked=0,
    overdue=0,
    hours=(49,),
    ratings=(4,),
)
TOTAL_COUNTS = dict(
    reports=11,
    filed=6,
    closed=5,
    closed_on_time=4,
    self_handled=1,
    awaiting_closure=1,
    parked=1,
    voided=2,
    voided_valid=1,
    merged=1,
    valid_reports=8,
    dispatched=6,
    extended=1,
    handled=4,
    reworked=1,
    overdue=1,
    hours=(2, 2, 2, 49),
    ratings=(5, 2, 4),
)
TOTAL = expected(None, "total", **TOTAL_COUNTS)


def indicators(client, by, **params):
    r = client.get("/api/indicators", params={**NOVEMBER, "by": by, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_by_community_counts_every_case_once_and_states_each_denominator(client, scenario):
    result = indicators(client, "community")
    assert result["groups"] == [C1, C2]
    assert result["total"] == TOTAL
    # A few of the figures written out, in case `expected` itself were wrong.
    assert C1["closure_rate"] == {"value": 0.8, "numerator": 4, "denominator": 5}
    assert TOTAL["on_time_closure_rate"] == {"value": 0.6667, "numerator": 4, "denominator": 6}
    assert TOTAL["valid_report_rate"] == {"value": 0.7273, "numerator": 8, "denominator": 11}
    assert TOTAL["avg_handling_hours"] == {"value": 13.75, "total_hours": 55.0, "cases": 4}
    assert TOTAL["satisfaction"] == {
        "average": 3.67,
        "satisfied_share": 0.6667,
        "satisfied": 2,
        "rated": 3,
    }
    assert (result["from"], result["to"], result["as_of"]) == (
        "2026-11-01T00:00:00+08:00",
        "2026-12-01T00:00:00+08:00",
        AS_OF,
    )


def test_every_rate_states_its_formula(client, scenario):
    formulas = indicators(client, "street")["formulas"]
    for rate in (
        "closure_rate",
        "on_time_closure_rate",
        "rework_rate",
        "extension_rate",
        "valid_report_rate",
        "avg_handling_hours",
        "satisfaction",
    ):
        assert formulas[rate]["numerator"] and formulas[rate]["denominator"], rate
    assert "parked" in formulas["closure_rate"]["denominator"]


def test_by_street_is_the_total(client, scenario):
    result = indicators(client, "street")
    assert result["groups"] == [{**TOTAL, "code": "S", "name": "grid S"}]
    assert result["total"] == TOTAL


def test_by_grid_groups_the_third_level(client, scenario):
    result = indicators(client, "grid")
    assert [(g["code"], g["reports"], g["closed"]) for g in result["groups"]] == [
        ("C1-01", 9, 4),
        ("C2-01", 2, 1),
    ]


def test_by_unit_groups_by_the_unit_dispatched_to_and_keeps_the_undispatched(client, scenario):
    result = indicators(client, "unit")
    assert result["groups"] == [
        # e1: filed, dispatched, handled, closed late.
        expected(
            "D02",
            D02,
            reports=1,
            filed=1,
            closed=1,
            closed_on_time=0,
            self_handled=0,
            awaiting_closure=0,
            parked=0,
            voided=0,
            voided_valid=0,
            merged=0,
            valid_reports=1,
            dispatched=1,
            extended=0,
            handled=1,
            reworked=0,
            overdue=0,
            hours=(49,),
            ratings=(4,),
        ),
        # w1 w2 w3 w4 w7: all filed and dispatched; w7 parked drops out of should-be-closed.
        expected(
            "D09",
            D09,
            reports=5,
            filed=5,
            closed=3,
            closed_on_time=3,
            self_handled=0,
            awaiting_closure=1,
            parked=1,
            voided=0,
            voided_valid=0,
            merged=0,
            valid_reports=5,
            dispatched=5,
            extended=1,
            handled=3,
            reworked=1,
            overdue=0,
            hours=(2, 2, 2),
            ratings=(5, 2),
        ),
        # w5 w6 w8 w9 e3: never dispatched; rates over no dispatched or handled case are None.
        expected(
            None,
            "(未派遣 not dispatched)",
            reports=5,
            filed=0,
            closed=1,
            closed_on_time=1,
            self_handled=1,
            awaiting_closure=0,
            parked=0,
            voided=2,
            voided_valid=1,
            merged=1,
            valid_reports=2,
            dispatched=0,
            extended=0,
            handled=0,
            reworked=0,
            overdue=1,
        ),
    ]
    undispatched = result["groups"][2]
    assert undispatched["rework_rate"]["value"] is None
    assert undispatched["extension_rate"]["value"] is None
    assert undispatched["avg_handling_hours"]["value"] is None
    assert result["total"] == TOTAL


def test_by_worker_groups_by_the_reporter(client, scenario):
    wangfang = {**TOTAL_COUNTS, "reports": 10, "merged": 0}  # everything but e3
    result = indicators(client, "worker")
    assert result["groups"] == [
        expected(
            "liuwei",
            "liuwei",
            reports=1,
            filed=0,
            closed=0,
            closed_on_time=0,
            self_handled=0,
            awaiting_closure=0,
            parked=0,
            voided=0,
            voided_valid=0,
            merged=1,
            valid_reports=0,
            dispatched=0,
            extended=0,
            handled=0,
            reworked=0,
            overdue=0,
        ),
        expected("wangfang", "wangfang", **wangfang),
    ]
    liuwei = result["groups"][0]
    assert liuwei["closure_rate"]["value"] is None  # nothing should be closed: not 0, not 100 %
    assert liuwei["valid_report_rate"] == {"value": 0.0, "numerator": 0, "denominator": 1}
    assert result["total"] == TOTAL


def test_the_period_is_read_in_beijing_time(client, scenario):
    # w9 (1 November 00:30 Beijing) is in; x1 (1 December 07:30 Beijing) is out.
    assert indicators(client, "street")["total"]["reports"] == 11
    later = indicators(client, "street", **{"from": "2026-11-01T00:31:00"})
    assert later["total"]["reports"] == 10
    # "+08:00" typed into a URL arrives as " 08:00"; it is read as the offset it was.
    r = client.get(
        "/api/indicators?by=street&from=2026-11-01T00:00:00+08:00&to=2026-12-01"
        f"&as_of={AS_OF.replace('+', '%2B')}"
    )
    assert r.status_code == 200, r.text
    assert r.json()["total"] == TOTAL


def test_overdue_is_judged_at_as_of_which_defaults_to_now(client, scenario, clock):
    params = {"by": "street", "from": NOVEMBER["from"], "to": NOVEMBER["to"]}
    clock.set("2026-11-02T08:00:00+08:00")  # before w9's filing deadline, 2 November 09:00
    assert client.get("/api/indicators", params=params).json()["total"]["overdue"] == 0
    clock.set(WEDNESDAY_10)
    assert client.get("/api/indicators", params=params).json()["total"]["overdue"] == 1


def test_a_period_without_cases_gives_a_total_of_zeros_and_no_rates(client, scenario):
    result = indicators(client, "community", **{"from": "2020-01-01", "to": "2020-02-01"})
    assert result["groups"] == []
    assert result["total"] == expected(
        None, "total", **{k: 0 for k in TOTAL_COUNTS if k not in ("hours", "ratings")}
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "county"}, "by"),
        ({"by": "community", "from": "2026-13-01"}, "from"),
        ({"by": "community", "to": "next week"}, "to"),
        ({"by": "community", "as_of": "noon"}, "as_of"),
        ({"by": "community", "to": "9999-12-31T23:59:59-12:00"}, "to"),
        ({"by": "community", "from": "2026-12-01", "to": "2026-12-01"}, "to"),
        ({"by": "community", "from": "2026-12-01", "to": "2026-11-01"}, "to"),
    ],
)
def test_bad_parameters_are_refused_with_the_field_named(client, street, params, field):
    r = client.get("/api/indicators", params={**NOVEMBER, **params})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "InvalidInput" and r.json()["field"] == field


def test_a_missing_parameter_is_refused_with_the_field_named(client, street):
    r = client.get("/api/indicators", params={"from": "2026-11-01", "to": "2026-12-01"})
    assert r.status_code == 422 and r.json()["field"] == "query.by"


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def run_cli(monkeypatch, session_factory):
    """`onegrid ...` on the test's own transaction, where the scenario's cases are."""
    monkeypatch.setattr(cli, "_session_factory", lambda: session_factory)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli.app, list(args))


CLI_NOVEMBER = ("--from", "2026-11-01", "--to", "2026-12-01", "--as-of", AS_OF)


def test_the_command_prints_the_same_numbers_as_a_table_with_the_formulas(scenario, run_cli):
    result = run_cli("indicators", *CLI_NOVEMBER, "--by", "community")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    c1 = next(line for line in lines if line.startswith("C1 "))
    assert "80.0% (4/5)" in c1 and "77.8% (7/9)" in c1 and "33.3% (1/3)" in c1
    total = next(line for line in lines if line.split()[:1] == ["total"])
    assert "83.3% (5/6)" in total and "66.7% (4/6)" in total and "13.75" in total
    assert C2_RENAMED in result.output
    assert "Formulas" in result.output and "parked, voided and merged" in result.output


def test_the_command_writes_csv_and_json_with_the_api_numbers(client, scenario, run_cli):
    api = indicators(client, "unit")
    as_json = run_cli("indicators", *CLI_NOVEMBER, "--by", "unit", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == api

    as_csv = run_cli("indicators", *CLI_NOVEMBER, "--by", "unit", "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [r["code"] for r in rows] == ["D02", "D09", "", ""]
    assert rows[-1]["name"] == "total"
    d09 = rows[1]
    closure = ("closure_rate", "closure_rate_numerator", "closure_rate_denominator")
    assert [d09[k] for k in closure] == ["0.75", "3", "4"]
    assert d09["avg_handling_hours"] == "2.0" and d09["satisfaction_rated"] == "2"


def test_the_command_refuses_bad_parameters_naming_them(street, run_cli):
    result = run_cli("indicators", "--from", "2026-11-01", "--to", "2026-10-01", "--by", "grid")
    assert result.exit_code == 2 and "--to" in result.output
    result = run_cli("indicators", *CLI_NOVEMBER, "--by", "province")
    assert result.exit_code == 2 and "--by" in result.output
    result = run_cli("indicators", *CLI_NOVEMBER, "--by", "grid", "--format", "xlsx")
    assert result.exit_code == 2 and "format" in result.output


def test_the_csv_hands_a_spreadsheet_no_formula_in_a_name(client, street, clock, run_cli, tmp_path):
    clock.set(MONDAY_9)
    path = write_grid_file(tmp_path / "c2.geojson", {"C2": EAST}, name={"C2": "=HYPERLINK(1)"})
    grids_service.import_grids(street, path, level="second")
    grids_service.write_grids(street, "second")
    street.flush()
    report(client, at=IN_EAST)
    result = run_cli("indicators", *CLI_NOVEMBER, "--by", "community", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert (rows[0]["code"], rows[0]["name"], rows[0]["reports"]) == ("C2", "'=HYPERLINK(1)", "1")
