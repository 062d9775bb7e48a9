"""Enterprise service (万人助万企) through the API: visits, quarterly coverage per grid and per
officer, and a problem raised in a visit turned into a case and counted solved once closed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.cases.test_workflow_api import (
    COMMUNITY,
    DISPATCHER,
    WORKER,
    act,
    build_street,
    dispatched,
    handler,
)
from tests.helpers import Persona, bearer

from onegrid.places import repository as places_repo

DIRTY_ROAD = "01003"  # 道路不洁

# Two enterprises in each community's grid; 李明 serves the west ones, 王强 one in the east,
# and one has no service officer yet.
ENTERPRISES = {
    "E1": ("恒达科技", (113.605, 34.768), "李明", True, False),  # C1-01
    "E2": ("中原精密制造", (113.607, 34.771), "李明", False, True),  # C1-01
    "E3": ("东方物流", (113.616, 34.769), "王强", False, False),  # C2-01
    "E4": ("金水餐饮", (113.617, 34.771), None, False, False),  # C2-01
}
OFFICE = Persona("enterprise-office", "street_admin")
WEST_COMMUNITY = Persona("west-community", "community_staff", grid="C1")
EAST_COMMUNITY = Persona("east-community", "community_staff", grid="C2")
WEST_WORKER = Persona("west-worker", "grid_worker", grid="C1-01")
AUDITOR = Persona("enterprise-auditor", "auditor")


def add_enterprises(session) -> dict[str, int]:
    ids = {}
    for code, (name, (lon, lat), officer, key_tax, above_scale) in ENTERPRISES.items():
        ids[code] = session.execute(
            sa.text(
                "INSERT INTO places (kind, code, name, service_officer, key_tax_source,"
                " above_scale, geom) VALUES ('enterprise', :code, :name, :officer, :key_tax,"
                " :above, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"
            ),
            {
                "code": code,
                "name": name,
                "officer": officer,
                "key_tax": key_tax,
                "above": above_scale,
                "lon": lon,
                "lat": lat,
            },
        ).scalar_one()
    places_repo.assign_places(session, "enterprise")
    session.flush()
    return ids


@pytest.fixture
def firms(client, session, tmp_path, clock) -> dict[str, int]:
    build_street(session, tmp_path)
    clock.set("2027-01-05T09:00:00+08:00")
    return add_enterprises(session)


def visit(client, enterprise_id, on, officer="李明", as_=OFFICE, expect=201, **extra):
    body = {
        "enterprise_id": enterprise_id,
        "visited_on": on,
        "officer": officer,
        "discussed": "了解企业生产经营情况",
        **extra,
    }
    r = client.post("/api/enterprise-service/visits", json=body, headers=bearer(client, as_))
    assert r.status_code == expect, r.text
    return r.json()


def coverage(client, quarter, as_=OFFICE):
    r = client.get(
        "/api/enterprise-service/coverage", params={"quarter": quarter}, headers=bearer(client, as_)
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_visits_on_the_quarters_first_and_last_days_count_and_the_day_after_does_not(client, firms):
    visit(client, firms["E1"], "2026-10-01")  # the first day of 2026Q4
    visit(client, firms["E3"], "2026-12-31", officer="王强")  # its last day
    visit(client, firms["E2"], "2027-01-01")  # the day after: 2027Q1
    visit(client, firms["E4"], "2026-09-30", officer="王强")  # the day before: 2026Q3

    q4 = coverage(client, "2026Q4")
    assert (q4["quarter"], q4["first_day"], q4["last_day"]) == (
        "2026Q4",
        "2026-10-01",
        "2026-12-31",
    )
    assert (q4["enterprises"], q4["visited"], q4["visits"]) == (4, 2, 2)
    assert q4["visited_share"] == 0.5
    unvisited = {e["id"]: e for e in q4["unvisited"]}
    assert set(unvisited) == {firms["E2"], firms["E4"]}
    assert unvisited[firms["E4"]]["last_visited_on"] == "2026-09-30"
    assert unvisited[firms["E2"]]["last_visited_on"] is None  # its visit came after
    assert unvisited[firms["E2"]]["above_scale"] is True
    assert unvisited[firms["E2"]]["grid_code"] == "C1-01"
    grids = {g["code"]: (g["enterprises"], g["visited"], g["visited_share"]) for g in q4["grids"]}
    assert grids == {"C1-01": (2, 1, 0.5), "C2-01": (2, 1, 0.5)}
    communities = {g["code"]: (g["enterprises"], g["visited"]) for g in q4["communities"]}
    assert communities == {"C1": (2, 1), "C2": (2, 1)}
    officers = {o["officer"]: (o["enterprises"], o["visited"], o["visits"]) for o in q4["officers"]}
    assert officers == {"李明": (2, 1, 1), "王强": (1, 1, 1), None: (1, 0, 0)}

    q1 = coverage(client, "2027q1")
    assert q1["quarter"] == "2027Q1"
    assert (q1["visited"], [e["id"] for e in q1["unvisited"]]) == (
        1,
        [firms["E1"], firms["E3"], firms["E4"]],
    )
    assert coverage(client, "2026Q3")["visited"] == 1
    assert coverage(client, None)["quarter"] == "2027Q1"  # the clock's quarter

    # Scoped to the person's grids.
    west = coverage(client, "2026Q4", as_=WEST_COMMUNITY)
    assert (west["enterprises"], west["visited"]) == (2, 1)
    assert [g["code"] for g in west["communities"]] == ["C1"]
    assert coverage(client, "2026Q4", as_=AUDITOR)["enterprises"] == 4
    r = client.get("/api/enterprise-service/coverage", params={"quarter": "2026Q5"})
    assert r.status_code == 422 and r.json()["field"] == "quarter"


def test_a_problem_becomes_a_case_and_counts_solved_once_the_case_is_closed(client, firms, clock):
    clock.set("2026-11-30T09:00:00+08:00")
    recorded = visit(
        client,
        firms["E1"],
        "2026-11-20",
        as_=WEST_WORKER,
        problems=[
            {"description": "厂区门前道路脏乱", "category_code": DIRTY_ROAD},
            {"description": "招工难，希望对接人社部门"},
        ],
    )
    road, staff = recorded["problems"]
    assert (road["case_id"], road["solved"], staff["category_code"]) == (None, False, None)

    r = client.post(
        f"/api/enterprise-service/problems/{road['id']}/case",
        json={},
        headers=bearer(client, WEST_WORKER),
    )
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    assert r.json()["problem"]["case_id"] == case["id"]
    assert case["source"] == "enterprise_service" and case["category_code"] == DIRTY_ROAD
    assert (case["second_code"], case["third_code"]) == ("C1", "C1-01")
    assert case["lon"] == pytest.approx(ENTERPRISES["E1"][1][0])
    assert "厂区门前道路脏乱" in case["description"] and "恒达科技" in case["description"]
    assert case["reporter"] == WEST_WORKER.name and case["status"] == "reported"
    again = client.post(f"/api/enterprise-service/problems/{road['id']}/case", json={})
    assert again.status_code == 409 and again.json()["case_id"] == case["id"]

    q4 = coverage(client, "2026Q4")
    assert (q4["problems_raised"], q4["problems_turned_into_cases"], q4["problems_solved"]) == (
        2,
        1,
        0,
    )

    # The normal workflow: screened, filed, dispatched by the rules, handled, verified, closed.
    case = dispatched(client, case)
    unit = case["unit_code"]
    assert case["dispatch_rule"] == "category_department"
    case = act(client, case, "accept", handler(unit))
    case = act(client, case, "report_back", handler(unit), note="已清扫")
    assert coverage(client, "2026Q4")["problems_solved"] == 0  # reported back is not solved
    case = act(client, case, "verify", WORKER, verdict="passed", note="现场已干净")
    case = act(client, case, "close", DISPATCHER)

    q4 = coverage(client, "2026Q4")
    assert q4["problems_solved"] == 1
    officer = next(o for o in q4["officers"] if o["officer"] == "李明")
    assert (officer["problems_raised"], officer["problems_solved"]) == (2, 1)
    grid = next(g for g in q4["grids"] if g["code"] == "C1-01")
    assert (grid["problems_raised"], grid["problems_solved"]) == (2, 1)
    shown = client.get(f"/api/enterprise-service/visits/{recorded['id']}").json()
    assert [(p["case_status"], p["solved"]) for p in shown["problems"]] == [
        ("closed", True),
        (None, False),
    ]
    act(client, case, "evaluate", COMMUNITY, satisfaction=5)
    assert coverage(client, "2026Q4")["problems_solved"] == 1  # evaluated is still solved


def test_visit_lists_filter_by_enterprise_officer_grid_and_dates_within_scope(client, firms):
    west = visit(client, firms["E1"], "2026-10-15")
    later = visit(client, firms["E2"], "2026-11-15", officer="张伟")
    east = visit(client, firms["E3"], "2026-12-15", officer="王强")

    def ids(as_=OFFICE, **params):
        r = client.get("/api/enterprise-service/visits", params=params, headers=bearer(client, as_))
        assert r.status_code == 200, r.text
        return [v["id"] for v in r.json()]

    assert ids() == [east["id"], later["id"], west["id"]]  # latest first
    assert ids(enterprise=firms["E2"]) == [later["id"]]
    assert ids(officer="王强") == [east["id"]]
    assert ids(grid="C1") == [later["id"], west["id"]]
    assert ids(grid="C2-01") == [east["id"]]
    assert ids(**{"from": "2026-11-15", "to": "2026-12-14"}) == [later["id"]]
    assert ids(**{"from": "2026-10-15", "to": "2026-10-15"}) == [west["id"]]
    assert ids(as_=WEST_WORKER) == [later["id"], west["id"]]
    assert ids(as_=EAST_COMMUNITY, grid="C1") == []
    r = client.get(
        f"/api/enterprise-service/visits/{east['id']}", headers=bearer(client, WEST_WORKER)
    )
    assert r.status_code == 404
    r = client.get("/api/enterprise-service/visits", params={"from": "2026-13-01"})
    assert r.status_code == 422 and r.json()["field"] == "from"
    r = client.get("/api/enterprise-service/visits", params={"grid": "nowhere"})
    assert r.status_code == 422 and r.json()["field"] == "grid"


def test_a_visit_is_refused_with_the_field_named(client, firms, session):
    # An enterprise outside the person's grids is not found, as one that does not exist.
    r = visit(client, firms["E3"], "2026-12-01", as_=WEST_COMMUNITY, expect=404)
    assert r["field"] == "enterprise_id"
    courtyard = session.execute(
        sa.text("SELECT id FROM places WHERE kind = 'courtyard' LIMIT 1")
    ).scalar_one()
    assert visit(client, courtyard, "2026-12-01", expect=404)["field"] == "enterprise_id"
    assert visit(client, firms["E1"], "2027-01-06", expect=422)["field"] == "visited_on"
    assert visit(client, firms["E1"], "2026-12-01", officer=" ", expect=422)["field"] == "officer"
    r = visit(
        client,
        firms["E1"],
        "2026-12-01",
        expect=422,
        problems=[{"description": "x"}, {"description": "y", "category_code": "99999"}],
    )
    assert r["field"] == "problems.1.category_code"
    # Departments, property companies and auditors do not record visits.
    for someone in (
        Persona("d09-handler", "department_handler", unit="D09"),
        Persona("p01-staff", "property_staff", unit="P01"),
        AUDITOR,
    ):
        assert visit(client, firms["E1"], "2026-12-01", as_=someone, expect=403)
    # Nothing of a refused visit is kept.
    assert client.get("/api/enterprise-service/visits").json() == []


@pytest.mark.parametrize("quarter", ["9999Q4", "0000Q1", "0001Q1", "2026Q5", "Q4"])
def test_a_quarter_out_of_range_is_refused_naming_it(client, firms, quarter):
    r = client.get("/api/enterprise-service/coverage", params={"quarter": quarter})
    assert r.status_code == 422 and r.json()["field"] == "quarter", r.text
