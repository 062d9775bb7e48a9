"""Registry statistics checked against counts the test makes itself from the rows it stores,
with a different number in each category, so a swapped column or a wrong filter shows."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
from tests.duties.conftest import COMMUNITY_C1, RESIDENT
from tests.helpers import bearer, load_grids

from onegrid.places import repository as places_repo
from onegrid.stats.registry import render_table
from onegrid.units import repository as units_repo

STATS = "/api/registry/stats"
LEVELS = ("street", "second", "third", "micro", "dedicated")


def square(lon: float, lat: float, half: float = 0.0004) -> str:
    return (
        f"POLYGON(({lon - half} {lat - half}, {lon + half} {lat - half}, {lon + half} {lat + half},"
        f" {lon - half} {lat + half}, {lon - half} {lat - half}))"
    )


# Where things are put: a point inside community C1 or C2, away from every edge.
def spot(community: str, i: int) -> tuple[float, float]:
    return (113.6015 if community == "C1" else 113.6115) + 0.0012 * i, 34.7755


# Extra grids: micro grids in C1-01 and C2-01, dedicated grids in C2 (none in C1).
MICRO = {
    "C1-01-N": square(113.605, 34.765),
    "C1-01-P": square(113.608, 34.765),
    "C2-01-M": square(113.615, 34.765),
}
DEDICATED = {f"D{i}": square(113.6115 + 0.0015 * i, 34.7625, 0.0005) for i in range(1, 6)}
C1_GRIDS = {"C1", "C1-01", "C1-02", "C1-01-M", "C1-01-N", "C1-01-P"}
GRID_LEVEL = {
    "S": "street",
    "C1": "second",
    "C2": "second",
    "C1-01": "third",
    "C1-02": "third",
    "C2-01": "third",
    "C1-01-M": "micro",
    **{code: "micro" for code in MICRO},
    **{code: "dedicated" for code in DEDICATED},
}

# Staff: k people of the k-th duty, spread over grids; sunk staff from three departments.
DUTIES = (
    "grid_leader",
    "full_time_worker",
    "part_time_worker",
    "sunk_staff",
    "police",
    "instructor",
)
STAFF_GRIDS = ("C1-01", "C2-01", "C1-02", "C1-01-M", "C2-01-M")
SUNK_UNITS = ("D01", "D02", "D01", "D03")


def staff_rows() -> list[dict]:
    rows, n = [], 0
    for k, duty in enumerate(DUTIES, start=1):
        for j in range(k):
            rows.append(
                {
                    "grid_code": STAFF_GRIDS[n % len(STAFF_GRIDS)],
                    "name": f"员工{n}",
                    "duty": duty,
                    "unit_code": SUNK_UNITS[j] if duty == "sunk_staff" else None,
                    "active": True,
                }
            )
            n += 1
    rows.append(
        {
            "grid_code": "C1-01",
            "name": "离职",
            "duty": "sunk_staff",
            "unit_code": "D04",
            "active": False,
        }
    )
    rows.append(
        {
            "grid_code": "C2-01",
            "name": "离职2",
            "duty": "grid_leader",
            "unit_code": None,
            "active": False,
        }
    )
    return rows


UNIT_GRIDS = {"D01": ["C1-01", "C1-02", "C2-01"], "D02": ["C2-01"], "D05": ["C1-01-M"]}
# level -> (items, of which on the spot); plus one inactive item that must not count.
ITEMS = {"grid": (5, 3), "community": (2, 1), "street": (1, 0), "department": (4, 2)}
# code, community, status, claim (status, company) or None, manager
COURTYARDS = [
    ("Y1", "C1", "property_managed", None, "P01"),
    ("Y2", "C2", "property_managed", None, "P02"),
    ("Y3", "C1", "unmanaged", None, None),
    ("Y4", "C1", "unmanaged", ("approved", "P01"), None),
    ("Y5", "C2", "unmanaged", ("pending", "P02"), None),
    ("Y6", "C2", "unmanaged", ("ended", "P01"), None),
    ("Y7", "C1", "red_property", None, "P01"),
    ("Y8", "C2", "red_property", None, "P02"),
    ("Y9", "C1", None, None, None),
    ("Y10", "C1", "unmanaged", ("rejected", "P02"), None),
]
# code, community, key tax source, above scale, visit dates
ENTERPRISES = [
    ("E1", "C1", True, False, ["2026-11-05"]),
    ("E2", "C1", True, True, ["2026-08-01"]),
    ("E3", "C2", False, True, []),
    ("E4", "C1", False, True, []),
    ("E5", "C2", False, True, ["2027-01-02"]),
    ("E6", "C2", False, False, ["2026-10-01"]),
    ("E7", "C1", False, False, ["2026-12-31", "2026-12-30"]),
    ("E8", "C2", False, False, []),
    ("E9", "C2", False, False, ["2027-01-01"]),
]
# enterprise (its first visit), then the status of the case each problem became, or None
PROBLEMS = {
    "E1": ["closed", "evaluated", "handling"],
    "E6": [None, "closed"],
    "E2": [None],
}
Q4 = (date(2026, 10, 1), date(2027, 1, 1))


PARTY_BRANCHES = {"P03": "金桥物业党支部"}  # P02 has none, nor P01 of the street


@pytest.fixture
def registry(session, duty_street, tmp_path):
    load_grids(session, tmp_path, "micro", MICRO)
    load_grids(session, tmp_path, "dedicated", DEDICATED)
    units_repo.upsert_units(
        session,
        [
            {
                "code": c,
                "name": f"物业{c}",
                "kind": "property_company",
                "grid_code": None,
                "phone": None,
                "party_branch": PARTY_BRANCHES.get(c),
            }
            for c in ("P02", "P03")
        ],
    )
    insert = sa.text(
        "INSERT INTO grid_staff (grid_code, name, duty, unit_code, phone, active)"
        " VALUES (:grid_code, :name, :duty, :unit_code, '13900000000', :active)"
    )
    session.execute(insert, staff_rows())
    for unit, grids in UNIT_GRIDS.items():
        session.execute(
            sa.text("INSERT INTO unit_grids VALUES (:u, :g)"), [{"u": unit, "g": g} for g in grids]
        )
    items = [
        {"code": f"{level}-{i}", "level": level, "spot": i < spot, "dept": "D01"}
        for level, (n, spot) in ITEMS.items()
        for i in range(n)
    ] + [{"code": "old", "level": "grid", "spot": True, "dept": "D01", "active": False}]
    session.execute(
        sa.text(
            "INSERT INTO responsibility_items"
            " (code, name, responsible_level, on_the_spot, department_code, active)"
            " VALUES (:code, :code, :level, :spot,"
            " CASE WHEN :level = 'department' THEN :dept END, :active)"
        ),
        [{"active": True, **item} for item in items],
    )
    ids = {}
    for i, (code, community, status, _claim, manager) in enumerate(COURTYARDS):
        lon, lat = spot(community, i % 6)
        ids[code] = session.execute(
            sa.text(
                "INSERT INTO places (kind, code, management_status, manager_unit_code, geom)"
                " VALUES ('courtyard', :code, :status, :manager,"
                " ST_Multi(ST_GeomFromText(:wkt, 4326))) RETURNING id"
            ),
            {
                "code": code,
                "status": status,
                "manager": manager,
                "wkt": square(lon, lat - 0.002 * (i // 6), 0.0002),
            },
        ).scalar_one()
    for code, _community, _status, claim, _manager in COURTYARDS:
        if claim is None:
            continue
        status, company = claim
        session.execute(
            sa.text(
                "INSERT INTO courtyard_claims (courtyard_id, company_code, status, claimed_on,"
                " requested_by, requested_at, decided_at, ended_on)"
                " VALUES (:yard, :company, :status, '2026-06-01', 'test', now(),"
                " CASE WHEN :status <> 'pending' THEN now() END,"
                " CASE WHEN :status = 'ended' THEN DATE '2026-09-01' END)"
            ),
            {"yard": ids[code], "company": company, "status": status},
        )
    for i, (code, community, key, above, visits) in enumerate(ENTERPRISES):
        lon, lat = spot(community, i % 6)
        firm = session.execute(
            sa.text(
                "INSERT INTO places (kind, code, key_tax_source, above_scale, geom)"
                " VALUES ('enterprise', :code, :key, :above,"
                " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"
            ),
            {"code": code, "key": key, "above": above, "lon": lon, "lat": lat - 0.004},
        ).scalar_one()
        visit_ids = [
            session.execute(
                sa.text(
                    "INSERT INTO enterprise_visits (enterprise_id, visited_on, officer,"
                    " discussed, recorded_by, recorded_at)"
                    " VALUES (:firm, :on, '周干部', '用工', 'test', now()) RETURNING id"
                ),
                {"firm": firm, "on": date.fromisoformat(on)},
            ).scalar_one()
            for on in visits
        ]
        for n, status in enumerate(PROBLEMS.get(code, [])):
            case_id = None
            if status is not None:
                case_id = session.execute(
                    sa.text(
                        "INSERT INTO cases (external_id, status, source)"
                        " VALUES (:ext, :status, 'enterprise_service') RETURNING id"
                    ),
                    {"ext": f"EV-{code}-{n}", "status": status},
                ).scalar_one()
            session.execute(
                sa.text(
                    "INSERT INTO visit_problems (visit_id, description, case_id)"
                    " VALUES (:visit, '融资难', :case)"
                ),
                {"visit": visit_ids[0], "case": case_id},
            )
    places_repo.assign_places(session, "courtyard")
    places_repo.assign_places(session, "enterprise")
    session.flush()
    # The places landed where the test meant them to.
    landed = dict(
        session.execute(
            sa.text("SELECT p.code, g.code FROM places p JOIN grids g ON g.id = p.second_grid_id")
        ).all()
    )
    meant = {c[0]: c[1] for c in COURTYARDS} | {e[0]: e[1] for e in ENTERPRISES}
    assert landed == meant


def expected(communities: set[str], grids: set[str] | None, quarter=Q4) -> dict:
    """The figures, counted here from the rows the fixture stores."""
    in_grids = (lambda code: True) if grids is None else (lambda code: code in grids)
    levels = Counter(level for code, level in GRID_LEVEL.items() if in_grids(code))
    staff = [s for s in staff_rows() if s["active"] and in_grids(s["grid_code"])]
    served = Counter(u for u, gs in UNIT_GRIDS.items() for g in gs if in_grids(g))
    sunk = Counter(s["unit_code"] for s in staff if s["duty"] == "sunk_staff")
    yards = [y for y in COURTYARDS if y[1] in communities]

    def claimed(y):
        return y[2] == "red_property" or (y[3] is not None and y[3][0] == "approved")

    companies = {"P01", "P02", "P03"}
    managed = Counter(y[4] for y in yards if y[4])
    claims = Counter(y[3][1] for y in yards if y[3] and y[3][0] == "approved")
    if grids is not None:
        companies = set(managed) | set(claims)
    firms = [e for e in ENTERPRISES if e[1] in communities]

    def visited(e):
        return any(quarter[0] <= date.fromisoformat(v) < quarter[1] for v in e[4])

    problems = [s for e in firms for s in PROBLEMS.get(e[0], [])]
    red = sum(map(claimed, yards))
    unmanaged = sum(1 for y in yards if not claimed(y) and y[2] == "unmanaged")
    key = [e for e in firms if e[2] or e[3]]
    return {
        "grids_per_level": {level: levels[level] for level in LEVELS},
        "staff_per_duty": {d: sum(1 for s in staff if s["duty"] == d) for d in DUTIES},
        "departments": {u: (served[u], sunk[u]) for u in set(served) | set(sunk)},
        "items": {lv: {"items": n, "on_the_spot": s} for lv, (n, s) in ITEMS.items()},
        "companies": {c: (managed[c], claims[c]) for c in companies},
        "courtyards": {
            "total": len(yards),
            "red_property": red,
            "property_managed": sum(
                1 for y in yards if not claimed(y) and y[2] == "property_managed"
            ),
            "unmanaged": unmanaged,
            "not_recorded": sum(1 for y in yards if not claimed(y) and y[2] is None),
            "claimed_share": {
                "value": red / (red + unmanaged) if red + unmanaged else None,
                "numerator": red,
                "denominator": red + unmanaged,
            },
        },
        "enterprises": {
            "total": len(firms),
            "key_tax_source": sum(1 for e in firms if e[2]),
            "above_scale": sum(1 for e in firms if e[3]),
            "key": len(key),
            "visited": sum(map(visited, firms)),
            "key_visited": sum(map(visited, key)),
        },
        "problems": {
            "raised": len(problems),
            "became_cases": sum(1 for s in problems if s is not None),
            "solved": sum(1 for s in problems if s in ("closed", "evaluated")),
        },
    }


def figures(answer: dict) -> dict:
    """The parts of an answer compared with `expected`."""
    firms = dict(answer["enterprises"])
    firms.pop("key_visit_rate")
    return {
        "grids_per_level": answer["grids_per_level"],
        "staff_per_duty": answer["staff_per_duty"],
        "departments": {
            d["code"]: (d["grids_served"], d["sunk_staff"])
            for d in answer["sunk_departments"]["departments"]
        },
        "items": answer["responsibility_items"]["per_level"],
        "companies": {
            c["code"]: (c["courtyards_managed"], c["claims_approved"])
            for c in answer["property_companies"]["companies"]
        },
        "courtyards": answer["courtyards"],
        "enterprises": firms,
        "problems": answer["enterprise_problems"],
    }


def test_the_street_sees_every_figure_of_the_registry(client, clock, registry):
    clock.set("2026-12-01T09:00:00+08:00")
    r = client.get(STATS)
    assert r.status_code == 200, r.text
    answer = r.json()
    want = expected({"C1", "C2"}, None)
    assert figures(answer) == want
    assert answer["quarter"] == {"label": "2026Q4", "from": "2026-10-01", "to": "2027-01-01"}
    assert answer["sunk_departments"]["count"] == len(want["departments"])
    assert answer["sunk_departments"]["staff"] == want["staff_per_duty"]["sunk_staff"]
    assert answer["responsibility_items"]["total"] == sum(n for n, _ in ITEMS.values())
    assert answer["responsibility_items"]["on_the_spot"] == sum(s for _, s in ITEMS.values())
    companies = answer["property_companies"]["companies"]
    assert {c["code"]: c["party_branch"] for c in companies if c["party_branch"]} == PARTY_BRANCHES
    assert answer["property_companies"]["party_branches"] == len(PARTY_BRANCHES)
    firms = want["enterprises"]
    assert answer["enterprises"]["key_visit_rate"] == {
        "value": firms["key_visited"] / firms["key"],
        "numerator": firms["key_visited"],
        "denominator": firms["key"],
    }


def test_community_staff_see_the_figures_of_their_community(client, clock, registry):
    clock.set("2026-12-01T09:00:00+08:00")
    r = client.get(STATS, headers=bearer(client, COMMUNITY_C1))
    assert r.status_code == 200, r.text
    assert figures(r.json()) == expected({"C1"}, C1_GRIDS)
    assert client.get(STATS, headers=bearer(client, RESIDENT)).status_code == 403


def test_another_quarter_counts_its_own_visits(client, registry):
    r = client.get(STATS, params={"quarter": "2026-Q3"})
    assert r.status_code == 200, r.text
    q3 = (date(2026, 7, 1), date(2026, 10, 1))
    assert figures(r.json())["enterprises"] == expected({"C1", "C2"}, None, q3)["enterprises"]
    bad = client.get(STATS, params={"quarter": "2026Q5"})
    assert bad.status_code == 422 and bad.json()["field"] == "quarter"


def test_the_table_prints_the_figures_with_their_chinese_names(client, clock, registry):
    clock.set("2026-12-01T09:00:00+08:00")
    table = render_table(client.get(STATS).json())
    assert "Registry statistics for the whole street; quarter 2026Q4" in table
    lines = {line.strip().split("  ")[0]: line.split()[-1] for line in table.splitlines() if line}
    assert lines["微网格 micro"] == str(1 + len(MICRO))
    assert lines["专属网格 dedicated"] == str(len(DEDICATED))
    share = expected({"C1", "C2"}, None)["courtyards"]["claimed_share"]
    assert (
        lines["claimed / (claimed + unmanaged)"] == f"({share['numerator']}/{share['denominator']})"
    )
