"""The places registry through the API: every kind with its attributes, assigned to grids on
create and on edit, validated per kind, scoped by role, exported and audited."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from tests.cases.test_workflow_api import build_street
from tests.helpers import Persona, bearer

from onegrid.geo.crs import wgs84_to_gcj02

# build_street: S; communities C1 (west, grid C1-01) and C2 (east, grid C2-01); school D1;
# courtyard Y1 (red property of P01) in C2-01.
WEST_BLOCK = [[113.604, 34.766], [113.605, 34.766], [113.605, 34.767], [113.604, 34.767]]
EAST_BLOCK = [[113.615, 34.766], [113.616, 34.766], [113.616, 34.767], [113.615, 34.767]]
WORKER = Persona("wangfang", "grid_worker", grid="C1-01")


def polygon(ring):
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def point(lon, lat):
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.fixture
def street(session, tmp_path):
    return build_street(session, tmp_path)


def create(client, expect=201, headers=None, **body):
    r = client.post("/api/places", json=body, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def building(client, ring=WEST_BLOCK, **extra):
    body = {"kind": "building", "name": "1号楼", "geometry": polygon(ring), **extra}
    return create(client, **body)


def test_a_new_building_is_assigned_to_one_grid_per_level_named_by_code_and_name(client, street):
    place = building(client, address="丰产路8号", households=120, residents=310, code="B-1")
    props = place["properties"]
    assert place["geometry"]["type"] == "MultiPolygon"
    assert props["grids"]["third"] == {"code": "C1-01", "name": "grid C1-01"}
    assert props["grids"]["second"]["code"] == "C1" and props["grids"]["street"]["code"] == "S"
    assert props["responsible"]["code"] == "C1-01" and not props["outside_coverage"]
    assert (props["households"], props["residents"], props["address"]) == (120, 310, "丰产路8号")
    again = client.get(f"/api/places/{place['id']}").json()
    assert again["properties"]["grids"] == props["grids"]
    assert again["properties"]["updated_by"] == "office"


def test_each_kind_takes_its_own_attributes(client, street):
    merchant = create(
        client,
        kind="merchant",
        name="老王烩面",
        geometry=point(113.606, 34.770),
        licence_no="92410105MA9XXXXX1",
        trade="餐饮",
        contact_unit_code="D04",
    )["properties"]
    assert (merchant["contact_unit_code"], merchant["contact_unit_name"]) == (
        "D04",
        "金水区市场监督管理局丰产路市场监管所",
    )
    enterprise = create(
        client,
        kind="enterprise",
        name="中原科技有限公司",
        geometry=polygon(EAST_BLOCK),
        key_tax_source=True,
        above_scale=True,
        service_officer="李明",
    )["properties"]
    assert enterprise["key_tax_source"] and enterprise["above_scale"]
    assert enterprise["grids"]["third"]["code"] == "C2-01"
    site = create(
        client,
        kind="site",
        geometry=polygon(WEST_BLOCK),
        starts_on="2026-03-01",
        ends_on="2026-10-31",
    )["properties"]
    assert (site["starts_on"], site["ends_on"]) == ("2026-03-01", "2026-10-31")
    courtyard = create(
        client,
        kind="courtyard",
        name="金水小区",
        geometry=polygon(WEST_BLOCK),
        management_status="unmanaged",
    )["properties"]
    assert courtyard["management_status"] == "unmanaged"
    unit = create(client, kind="resident_unit", name="区档案馆", geometry=point(113.607, 34.77))
    assert unit["properties"]["kind"] == "resident_unit"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"kind": "merchant", "geometry": polygon(WEST_BLOCK)}, "geometry", "expected a Point"),
        ({"kind": "building", "geometry": point(113.606, 34.77)}, "geometry", "Polygon"),
        (
            {"kind": "site", "starts_on": "2026-05-01", "ends_on": "2026-04-30"},
            "ends_on",
            "before starts_on",
        ),
        ({"kind": "building", "households": -1}, "households", "greater than or equal"),
        ({"kind": "building", "licence_no": "X1"}, "licence_no", "enterprise, merchant"),
        ({"kind": "merchant", "management_status": "unmanaged"}, "management_status", "courtyard"),
        ({"kind": "courtyard", "management_status": "red_property"}, "management_status", "claim"),
        ({"kind": "courtyard", "management_status": "abandoned"}, "management_status", "unknown"),
        ({"kind": "courtyard", "manager_unit_code": "P01"}, "manager_unit_code", "claim"),
        ({"kind": "merchant", "contact_unit_code": "NOPE"}, "contact_unit_code", "no active"),
        ({"kind": "merchant", "contact_unit_code": "P01"}, "contact_unit_code", "property_company"),
        ({"kind": "merchant", "geometry": point(100.0, 34.77)}, "geometry", "km from every grid"),
        ({"kind": "merchant", "geometry": point(34.77, 113.606)}, "geometry", "swapped"),
        ({"kind": "building", "colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_what_does_not_fit_the_kind_is_refused_naming_the_field(client, street, body, field, words):
    defaults = {
        "merchant": point(113.606, 34.77),
        "site": polygon(WEST_BLOCK),
        "building": polygon(WEST_BLOCK),
        "courtyard": polygon(WEST_BLOCK),
    }
    body = {"geometry": defaults[body["kind"]], **body}
    r = client.post("/api/places", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and words in r.json()["message"], r.json()
    stored = client.get("/api/places").json()["features"]
    assert [f["properties"]["code"] for f in stored] == ["Y1"]  # nothing half-written


def test_a_gcj02_point_is_converted_at_the_edge_and_its_raw_input_kept(client, street):
    wgs = (113.606, 34.770)
    shifted = wgs84_to_gcj02(*wgs)
    place = create(
        client,
        kind="merchant",
        geometry=point(*shifted),
        crs="gcj02",
    )
    lon, lat = place["geometry"]["coordinates"]
    assert abs(lon - wgs[0]) < 1e-7 and abs(lat - wgs[1]) < 1e-7
    assert place["properties"]["attributes"]["raw_crs"] == "gcj02"
    assert place["properties"]["attributes"]["raw_geometry"]["coordinates"] == list(shifted)


def test_a_code_is_unique_within_its_kind(client, street):
    building(client, code="B-1")
    r = client.post(
        "/api/places", json={"kind": "building", "code": "B-1", "geometry": polygon(EAST_BLOCK)}
    )
    assert r.status_code == 409 and r.json()["field"] == "code", r.text
    create(client, kind="courtyard", code="B-1", geometry=polygon(EAST_BLOCK))  # another kind


def test_a_moved_geometry_is_reassigned_at_once_and_the_edit_audited(client, street):
    place = building(client)
    r = client.patch(
        f"/api/places/{place['id']}",
        json={"geometry": polygon(EAST_BLOCK), "households": 80},
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["grids"]["third"]["code"] == "C2-01" and props["households"] == 80
    assert props["name"] == "1号楼"  # not sent: unchanged
    entry = client.get("/api/audit", params={"action": "place_updated"}).json()[0]
    assert entry["target"] == f"place {place['id']}"
    changed = entry["detail"]["changed"]
    assert changed["households"] == [None, 80]
    assert changed["geometry"]["grids_before"]["third"] == "C1-01"
    assert changed["geometry"]["grids_after"]["third"] == "C2-01"
    r = client.patch(f"/api/places/{place['id']}", json={"households": None, "kind": "site"})
    assert r.status_code == 422 and r.json()["field"] == "kind"


def test_an_edit_cannot_break_the_dates_of_a_site_or_remove_its_geometry(client, street):
    site = create(client, kind="site", geometry=polygon(WEST_BLOCK), starts_on="2026-03-01")
    r = client.patch(f"/api/places/{site['id']}", json={"ends_on": "2026-02-01"})
    assert r.status_code == 422 and r.json()["field"] == "ends_on"
    r = client.patch(f"/api/places/{site['id']}", json={"geometry": None})
    assert r.status_code == 422 and r.json()["field"] == "geometry"


def test_a_red_property_courtyard_keeps_its_status_until_the_claim_ends(client, street):
    y1 = street.execute(sa.text("SELECT id FROM places WHERE code = 'Y1'")).scalar()
    r = client.patch(f"/api/places/{y1}", json={"management_status": "unmanaged"})
    assert r.status_code == 409 and r.json()["field"] == "management_status", r.text
    r = client.patch(f"/api/places/{y1}", json={"name": "金华小区(南区)"})
    assert r.status_code == 200 and r.json()["properties"]["management_status"] == "red_property"


def test_a_managed_courtyard_made_unmanaged_loses_its_company(client, street):
    """无主管 means no company: the courtyard's cases must stop going to the old one."""
    yard = create(
        client,
        kind="courtyard",
        name="物业小区",
        management_status="property_managed",
        geometry=polygon(WEST_BLOCK),
    )
    street.execute(
        sa.text("UPDATE places SET manager_unit_code = 'P01' WHERE id = :id"), {"id": yard["id"]}
    )
    r = client.patch(f"/api/places/{yard['id']}", json={"management_status": "unmanaged"})
    assert r.status_code == 200, r.text
    stored = street.execute(
        sa.text("SELECT management_status, manager_unit_code FROM places WHERE id = :id"),
        {"id": yard["id"]},
    ).one()
    assert tuple(stored) == ("unmanaged", None)
    logged = client.get("/api/audit", params={"action": "place_updated", "limit": 1}).json()[0]
    assert logged["detail"]["changed"]["manager_unit_code"] == ["P01", None]


def test_filters_narrow_the_list(client, street):
    west = building(client, name="东风50%大楼", address="丰产路1号")
    east = building(client, ring=EAST_BLOCK, name="东风大厦", address="经三路2号")
    shop = create(client, kind="merchant", name="小卖部", geometry=point(113.606, 34.77))

    def ids(**params):
        r = client.get("/api/places", params=params)
        assert r.status_code == 200, r.text
        return {f["id"] for f in r.json()["features"]}

    assert ids(kind="building") == {west["id"], east["id"]}
    assert ids(grid="C1") == {west["id"], shop["id"]}  # the community's subtree
    assert ids(grid="C2-01", kind="building") == {east["id"]}
    assert ids(bbox="113.614,34.765,113.617,34.768") == {east["id"]}
    assert ids(q="东风") == {west["id"], east["id"]}
    assert ids(q="50%") == {west["id"]}  # a literal %, not a wildcard
    assert ids(q="经三路") == {east["id"]}
    assert ids(management_status="red_property") <= ids()  # Y1 is not assigned to a grid
    assert len(ids(limit=1)) == 1
    assert client.get("/api/places", params={"grid": "NOPE"}).status_code == 404
    assert client.get("/api/places", params={"kind": "castle"}).status_code == 422


def test_grid_staff_add_and_edit_places_only_inside_their_own_grid(client, street):
    mine = bearer(client, WORKER)
    inside = building(client)
    elsewhere = building(client, ring=EAST_BLOCK)
    created = create(
        client,
        headers=mine,
        kind="merchant",
        name="便利店",
        geometry=point(113.606, 34.77),
    )
    assert created["properties"]["grids"]["third"]["code"] == "C1-01"
    r = client.post(
        "/api/places", json={"kind": "merchant", "geometry": point(113.615, 34.77)}, headers=mine
    )
    assert r.status_code == 403 and r.json()["field"] == "geometry", r.text
    r = client.patch(
        f"/api/places/{inside['id']}", json={"geometry": polygon(EAST_BLOCK)}, headers=mine
    )
    assert r.status_code == 403, r.text
    still = client.get(f"/api/places/{inside['id']}").json()
    assert still["properties"]["grids"]["third"]["code"] == "C1-01"  # nothing half-written
    r = client.patch(f"/api/places/{elsewhere['id']}", json={"name": "x"}, headers=mine)
    assert r.status_code == 404, r.text
    r = client.patch(f"/api/places/{inside['id']}", json={"households": 12}, headers=mine)
    assert r.status_code == 200 and r.json()["properties"]["households"] == 12


def test_export_names_each_place_with_its_grids_and_is_audited(client, street):
    building(client, name="=cmd|' /C calc'!A0", code="B-9")
    create(client, kind="merchant", name="小卖部", geometry=point(113.615, 34.77))
    r = client.get("/api/places/export", params={"format": "csv", "kind": "building"})
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["third_code"] == "C1-01" and rows[0]["code"] == "B-9"
    assert rows[0]["name"].startswith("'=")  # a spreadsheet shows it, never runs it
    assert rows[0]["wkt"].startswith("MULTIPOLYGON")
    r = client.get("/api/places/export", params={"format": "geojson"})
    features = r.json()["features"]
    assert {f["properties"]["kind"] for f in features} == {"building", "merchant", "courtyard"}
    logged = client.get("/api/audit", params={"action": "places_exported"}).json()
    assert [e["detail"]["places"] for e in logged] == [len(features), 1]
