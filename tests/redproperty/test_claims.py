"""Red property (红色物业) through the API: a company claims an unmanaged courtyard, the street
approves, the courtyard's cases go to the company through the normal workflow, the claim
ends and the next case goes elsewhere; refusals name the field; coverage and the map."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.cases.test_workflow_api import (
    ADMIN,
    DISPATCHER,
    GARBAGE,
    act,
    build_street,
    dispatched,
    report,
)
from tests.helpers import Persona, bearer

from onegrid.places import repository as places_repo
from onegrid.units import repository as units_repo

MONDAY_9 = "2026-11-30T09:00:00+08:00"


def square(x: float, y: float, side: float = 0.002) -> str:
    return (
        f"MULTIPOLYGON((({x} {y}, {x + side} {y}, {x + side} {y + side}, {x} {y + side}, {x} {y})))"
    )


# Beside the street's red-property courtyard Y1 (金华小区, P01, in C2): two unmanaged
# courtyards, one per community, and one a company manages under contract.
COURTYARDS = {
    "U1": ("西园小区", "unmanaged", None, square(113.604, 34.774)),  # C1
    "U2": ("东苑小区", "unmanaged", None, square(113.615, 34.765)),  # C2
    "M1": ("锦绣花园", "property_managed", "P02", square(113.607, 34.765)),  # C1
}
IN_U1 = (113.605, 34.775)

P01_STAFF = Persona("p01-staff", "property_staff", unit="P01")
P02_STAFF = Persona("p02-staff", "property_staff", unit="P02")
WEST_COMMUNITY = Persona("west-community", "community_staff", grid="C1")
EAST_COMMUNITY = Persona("east-community", "community_staff", grid="C2")
WEST_WORKER = Persona("west-worker", "grid_worker", grid="C1-01")


def add_courtyards(session) -> dict[str, int]:
    """The courtyards above (and company P02), assigned to their grids as an import does."""
    units_repo.upsert_units(
        session,
        [
            {
                "code": "P02",
                "name": "先锋物业",
                "kind": "property_company",
                "grid_code": None,
                "phone": None,
            }
        ],
    )
    ids = {}
    for code, (name, status, manager, wkt) in COURTYARDS.items():
        ids[code] = session.execute(
            sa.text(
                "INSERT INTO places (kind, code, name, management_status, manager_unit_code,"
                " geom) VALUES ('courtyard', :code, :name, :status, :manager,"
                " ST_GeomFromText(:wkt, 4326)) RETURNING id"
            ),
            {"code": code, "name": name, "status": status, "manager": manager, "wkt": wkt},
        ).scalar_one()
    ids["Y1"] = session.execute(
        sa.text("SELECT id FROM places WHERE kind = 'courtyard' AND code = 'Y1'")
    ).scalar_one()
    places_repo.assign_places(session, "courtyard")
    session.flush()
    return ids


@pytest.fixture
def yards(client, session, tmp_path, clock) -> dict[str, int]:
    build_street(session, tmp_path)
    clock.set(MONDAY_9)
    return add_courtyards(session)


def claim(client, courtyard_id, company="P02", as_=P02_STAFF, expect=201, **extra):
    body = {
        "courtyard_id": courtyard_id,
        "company_code": company,
        "claimed_on": "2026-11-02",
        **extra,
    }
    r = client.post("/api/red-property/claims", json=body, headers=bearer(client, as_))
    assert r.status_code == expect, r.text
    return r.json()


def decide(client, claim_id, action, as_=ADMIN, expect=200, **body):
    r = client.post(
        f"/api/red-property/claims/{claim_id}/{action}", json=body, headers=bearer(client, as_)
    )
    assert r.status_code == expect, r.text
    return r.json()


def courtyard(session, courtyard_id) -> tuple[str, str | None]:
    return tuple(
        session.execute(
            sa.text("SELECT management_status, manager_unit_code FROM places WHERE id = :id"),
            {"id": courtyard_id},
        ).one()
    )


def test_approved_claim_sends_the_courtyards_cases_to_the_company_until_it_ends(
    client, session, yards
):
    pending = claim(client, yards["U1"], note="党支部牵头认领")
    assert pending["status"] == "pending" and pending["courtyard_name"] == "西园小区"
    assert pending["community_code"] == "C1" and pending["note"] == "党支部牵头认领"
    # Waiting for the street, the courtyard is not yet the company's: its cases go by type.
    before = dispatched(client, report(client, at=IN_U1, category=GARBAGE))
    assert before["dispatch_rule"] == "category_department"

    approved = decide(client, pending["id"], "approve", note="同意")
    assert approved["status"] == "approved" and approved["decided_by"] == ADMIN.name
    assert courtyard(session, yards["U1"]) == ("red_property", "P02")

    case = dispatched(client, report(client, at=IN_U1, category=GARBAGE))
    assert (case["unit_code"], case["dispatch_rule"]) == ("P02", "courtyard_company")
    # The company's staff see it and take it on, as any unit dispatched to.
    mine = client.get("/api/cases", headers=bearer(client, P02_STAFF)).json()["features"]
    assert case["id"] in {f["id"] for f in mine}
    case = act(client, case, "accept", P02_STAFF)
    assert case["status"] == "handling"

    ended = decide(client, pending["id"], "end", ended_on="2026-11-30", reason="物业公司撤场")
    assert ended["status"] == "ended" and ended["ended_on"] == "2026-11-30"
    assert ended["end_reason"] == "物业公司撤场" and ended["ended_by"] == ADMIN.name
    assert courtyard(session, yards["U1"]) == ("unmanaged", None)
    after = dispatched(client, report(client, at=IN_U1, category=GARBAGE))
    assert (after["unit_code"], after["dispatch_rule"]) != ("P02", "courtyard_company")
    assert after["dispatch_rule"] == "category_department"

    # The claim stays as the courtyard's history, and the courtyard may be claimed again.
    history = client.get(f"/api/red-property/courtyards/{yards['U1']}/claims").json()
    assert [(c["id"], c["status"]) for c in history] == [(pending["id"], "ended")]
    early = claim(client, yards["U1"], company="P01", as_=P01_STAFF, expect=422)
    assert early["field"] == "claimed_on" and "2026-11-30" in early["message"]
    again = claim(client, yards["U1"], company="P01", as_=P01_STAFF, claimed_on="2026-11-30")
    history = client.get(f"/api/red-property/courtyards/{yards['U1']}/claims").json()
    assert [c["id"] for c in history] == [pending["id"], again["id"]]
    logged = [
        (e["action"], e["target"])
        for e in client.get("/api/audit", params={"limit": 20}).json()
        if e["action"].startswith("courtyard_claim")
    ]
    target = f"claim {pending['id']}"
    for action in ("courtyard_claimed", "courtyard_claim_approved", "courtyard_claim_ended"):
        assert (action, target) in logged, (action, logged)


def test_a_rejected_claim_leaves_the_courtyard_unmanaged_and_claimable(client, session, yards):
    pending = claim(client, yards["U2"])
    r = client.post(f"/api/red-property/claims/{pending['id']}/reject", json={})
    assert r.status_code == 422 and r.json()["field"] == "note"
    rejected = decide(client, pending["id"], "reject", note="该小区已有业委会自管")
    assert rejected["status"] == "rejected" and rejected["decision_note"] == "该小区已有业委会自管"
    assert courtyard(session, yards["U2"]) == ("unmanaged", None)
    claimable = client.get("/api/red-property/claimable", headers=bearer(client, P01_STAFF))
    assert yards["U2"] in {f["id"] for f in claimable.json()["features"]}
    assert any(e["action"] == "courtyard_claim_rejected" for e in client.get("/api/audit").json())


def test_only_an_unmanaged_courtyard_without_an_open_claim_can_be_claimed(client, yards):
    r = client.post(
        "/api/red-property/claims",
        json={"courtyard_id": yards["M1"], "company_code": "P01", "claimed_on": "2026-11-02"},
    )
    assert r.status_code == 409 and r.json()["field"] == "courtyard_id"
    assert "锦绣花园" in r.json()["message"] and "property_managed" in r.json()["message"]
    r = client.post(
        "/api/red-property/claims",
        json={"courtyard_id": yards["Y1"], "company_code": "P02", "claimed_on": "2026-11-02"},
    )
    assert r.status_code == 409 and "red_property" in r.json()["message"]

    first = claim(client, yards["U2"], company="P01", as_=P01_STAFF)
    r = client.post(
        "/api/red-property/claims",
        json={"courtyard_id": yards["U2"], "company_code": "P02", "claimed_on": "2026-11-03"},
    )
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["field"] == "courtyard_id" and body["open_claim_id"] == first["id"]
    assert "东苑小区" in body["message"] and f"claim {first['id']}" in body["message"]
    # Approved, it is still an open claim; to another company the courtyard is now one it
    # neither manages nor may claim.
    decide(client, first["id"], "approve")
    again = claim(client, yards["U2"], company="P02", as_=ADMIN, expect=409)
    assert again["field"] == "courtyard_id" and again["open_claim_id"] == first["id"]
    assert claim(client, yards["U2"], as_=P02_STAFF, expect=404)["field"] == "courtyard_id"


def test_a_claim_is_refused_with_the_field_named(client, yards):
    # Property staff claim for their own company only.
    r = claim(client, yards["U1"], company="P01", as_=P02_STAFF, expect=403)
    assert r["field"] == "company_code"
    # Only a property company can claim; the day cannot be in the future.
    assert claim(client, yards["U1"], company="D01", as_=ADMIN, expect=422)["field"] == (
        "company_code"
    )
    r = claim(client, yards["U1"], as_=ADMIN, expect=422, claimed_on="2026-12-01")
    assert r["field"] == "claimed_on"
    r = claim(client, yards["U1"], as_=ADMIN, expect=422, surprise=1)
    assert r["field"] == "surprise"
    # A community records claims of its own courtyards only (another's is not found).
    assert claim(client, yards["U1"], as_=EAST_COMMUNITY, expect=404)["field"] == "courtyard_id"
    assert claim(client, 10**9, as_=ADMIN, expect=404)["field"] == "courtyard_id"
    # Grid workers and auditors do not record claims.
    claim(client, yards["U1"], as_=WEST_WORKER, expect=403)
    recorded = claim(client, yards["U1"], as_=WEST_COMMUNITY)
    assert recorded["requested_by"] == WEST_COMMUNITY.name and recorded["company_code"] == "P02"


def test_only_the_street_administrator_decides_and_only_in_order(client, yards):
    pending = claim(client, yards["U1"])
    for someone in (DISPATCHER, WEST_COMMUNITY, P02_STAFF):
        for action in ("approve", "reject", "end"):
            decide(client, pending["id"], action, as_=someone, expect=403, note="x")
    r = decide(client, pending["id"], "end", expect=409, ended_on="2026-11-30", reason="x")
    assert r["field"] == "status" and "pending" in r["message"]
    decide(client, pending["id"], "approve")
    assert decide(client, pending["id"], "approve", expect=409)["field"] == "status"
    assert decide(client, pending["id"], "reject", expect=409, note="晚了")["field"] == "status"
    r = decide(client, pending["id"], "end", expect=422, ended_on="2026-11-01", reason="x")
    assert r["field"] == "ended_on"  # before the claim began
    r = decide(client, pending["id"], "end", expect=422, ended_on="2026-11-30", reason=" ")
    assert r["field"] == "reason"
    assert decide(client, 10**9, "approve", expect=404)["field"] == "id"


def test_property_staff_list_the_unmanaged_courtyards_they_could_claim(client, yards):
    seen = client.get("/api/red-property/claimable", headers=bearer(client, P02_STAFF)).json()
    features = {f["id"]: f for f in seen["features"]}
    assert set(features) == {yards["U1"], yards["U2"]}
    assert features[yards["U1"]]["properties"]["name"] == "西园小区"
    assert features[yards["U1"]]["geometry"]["type"] == "MultiPolygon"
    # Their other place views stay theirs: the map shows what they manage and may claim.
    layer = client.get("/api/red-property/map", headers=bearer(client, P02_STAFF)).json()
    assert {f["id"] for f in layer["features"]} == {yards["U1"], yards["U2"], yards["M1"]}
    # Territory staff see their own grid's; a claimed courtyard is no longer offered.
    west = client.get("/api/red-property/claimable", headers=bearer(client, WEST_WORKER)).json()
    assert {f["id"] for f in west["features"]} == {yards["U1"]}
    claim(client, yards["U2"])
    seen = client.get("/api/red-property/claimable", headers=bearer(client, P01_STAFF)).json()
    assert {f["id"] for f in seen["features"]} == {yards["U1"]}


def test_claim_lists_filter_by_status_company_and_community_within_scope(client, yards):
    west = claim(client, yards["U1"])
    east = claim(client, yards["U2"], company="P01", as_=P01_STAFF)
    decide(client, east["id"], "approve")

    def ids(as_=ADMIN, **params):
        r = client.get("/api/red-property/claims", params=params, headers=bearer(client, as_))
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()]

    assert ids() == [east["id"], west["id"]]
    assert ids(status="approved") == [east["id"]]
    assert ids(company="P02") == [west["id"]]
    assert ids(community="C2") == [east["id"]]
    assert ids(as_=P02_STAFF) == [west["id"]]  # a company sees its own claims
    assert ids(as_=WEST_COMMUNITY) == [west["id"]]
    assert ids(as_=WEST_COMMUNITY, community="C2") == []
    r = client.get("/api/red-property/claims", params={"status": "lost"})
    assert r.status_code == 422 and r.json()["field"] == "status"
    r = client.get("/api/red-property/claims", params={"community": "C9"})
    assert r.status_code == 422 and r.json()["field"] == "community"
    r = client.get(f"/api/red-property/claims/{east['id']}", headers=bearer(client, P02_STAFF))
    assert r.status_code == 404


def test_coverage_counts_claimed_courtyards_by_company_since_when_and_per_community(client, yards):
    before = client.get("/api/red-property/coverage").json()
    # U1 and U2 unmanaged, Y1 red property of P01 (recorded without a claim).
    assert (before["needing"], before["claimed"], before["pending"]) == (3, 1, 0)
    assert [(c["company_code"], c["courtyards"], c["since"]) for c in before["companies"]] == [
        ("P01", 1, None)
    ]

    decide(client, claim(client, yards["U1"])["id"], "approve")
    claim(client, yards["U2"], company="P01", as_=P01_STAFF)
    cover = client.get("/api/red-property/coverage").json()
    assert (cover["needing"], cover["claimed"], cover["pending"], cover["unclaimed"]) == (
        3,
        2,
        1,
        1,
    )
    assert cover["claimed_share"] == pytest.approx(2 / 3, abs=1e-4)
    companies = {c["company_code"]: c for c in cover["companies"]}
    assert companies["P02"]["courtyards"] == 1 and companies["P02"]["since"] == "2026-11-02"
    assert companies["P02"]["company_name"] == "先锋物业"
    communities = {c["code"]: c for c in cover["communities"]}
    assert (communities["C1"]["needing"], communities["C1"]["claimed"]) == (1, 1)
    assert (communities["C2"]["needing"], communities["C2"]["claimed"]) == (2, 1)
    assert communities["C2"]["pending"] == 1
    claimed = {c["courtyard_id"]: c for c in cover["claimed_courtyards"]}
    assert claimed[yards["U1"]]["since"] == "2026-11-02"

    # Scoped: a community its own courtyards, a company the ones it manages.
    west = client.get("/api/red-property/coverage", headers=bearer(client, WEST_COMMUNITY))
    assert [c["code"] for c in west.json()["communities"]] == ["C1"]
    mine = client.get("/api/red-property/coverage", headers=bearer(client, P02_STAFF)).json()
    assert (mine["needing"], mine["claimed"]) == (1, 1)


def test_the_map_colours_courtyards_by_red_property_status(client, yards):
    claim(client, yards["U2"])
    layer = client.get("/api/red-property/map").json()
    status = {f["id"]: f["properties"]["map_status"] for f in layer["features"]}
    assert status == {
        yards["U1"]: "unmanaged",
        yards["U2"]: "claim_pending",
        yards["M1"]: "property_managed",
        yards["Y1"]: "red_property",
    }
    colours = {f["properties"]["colour"] for f in layer["features"]}
    assert len(colours) == 4
    pending = next(f for f in layer["features"] if f["id"] == yards["U2"])
    assert pending["properties"]["claim_company_code"] == "P02"
    west = client.get("/api/red-property/map", headers=bearer(client, WEST_WORKER)).json()
    assert {f["id"] for f in west["features"]} == {yards["U1"], yards["M1"]}
    r = client.get(
        "/api/red-property/map", headers=bearer(client, Persona("resident-1", "resident"))
    )
    assert r.status_code == 403


def test_a_claim_does_not_end_before_the_street_approved_it(client, yards):
    approved = decide(client, claim(client, yards["U1"])["id"], "approve")
    approved_on = approved["decided_at"][:10]
    r = decide(client, approved["id"], "end", expect=422, ended_on="2026-11-03", reason="撤场")
    assert r["field"] == "ended_on" and approved_on in r["message"]
