"""Every import/assignment fault of ../shared/cases/geo_faults.json, through the real API."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from tests.helpers import load_grids
from tests.shared_data import geo_fault


def post_case(client, lon, lat, crs="wgs84", **extra):
    response = client.post(
        "/api/cases", json={"lon": lon, "lat": lat, "crs": crs, "category": "暴露垃圾", **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def abcd(session, tmp_path):
    """B01's four third-level grids meeting at one corner."""
    grids = geo_fault("B01")["input"]["grids"]
    load_grids(session, tmp_path, "third", grids)
    session.commit()
    return grids


def test_point_on_shared_edge_gets_exactly_one_grid_every_time(client, abcd):
    answers = {post_case(client, 116.40, 39.905)["third_code"] for _ in range(10)}
    assert answers == {"A"}


def test_point_on_four_grid_corner_gets_exactly_one_grid(client, abcd):
    case = post_case(client, 116.40, 39.91)
    assert case["third_code"] == "A"
    assert case["assignment_rule"] == "shared_boundary_tiebreak"
    assert case["on_boundary"] is True


def test_shared_edge_is_ambiguous_for_plain_predicates_but_not_for_us(session, abcd):
    # The fault's own observation, checked against PostGIS: covers matches 2, contains 0.
    counts = session.execute(
        sa.text(
            "SELECT count(*) FILTER (WHERE ST_Covers(geom, p)) AS covers,"
            "       count(*) FILTER (WHERE ST_Contains(geom, p)) AS contains"
            " FROM grids, ST_SetSRID(ST_MakePoint(116.40, 39.905), 4326) p"
        )
    ).one()
    assert (counts.covers, counts.contains) == (2, 0)


def test_batch_assignment_keeps_one_row_per_case(session, abcd, tmp_path):
    from onegrid.cases import service

    points = [(116.40, 39.905), (116.40, 39.91), (116.395, 39.905), (116.41, 39.92)] * 25
    csv = tmp_path / "cases.csv"
    csv.write_text(
        "external_id,lon,lat\n" + "\n".join(f"c{i},{x},{y}" for i, (x, y) in enumerate(points))
    )
    report = service.import_cases(session, csv)
    service.write_cases(session)
    assert report.accepted == len(points)
    rows = session.execute(
        sa.text(
            "SELECT g.code, count(*) FROM cases c JOIN grids g ON g.id = c.third_grid_id"
            " GROUP BY g.code ORDER BY g.code"
        )
    ).all()
    assert sum(n for _, n in rows) == len(points)
    assert dict(rows) == {"A": 75, "D": 25}  # edge, corner and inside A; outer corner of D


def test_point_on_outer_edge_is_inside_not_outside(client, abcd):
    case = post_case(client, 116.39, 39.905)  # B02: west edge of A, no neighbour
    assert case["third_code"] == "A"
    assert case["outside_coverage"] is False
    assert case["on_boundary"] is False


def test_turf_top_and_bottom_edge_points_are_inside(session, tmp_path):
    fault = geo_fault("B02")["input"]
    polygon = shapely.geometry.shape(fault["issue_polygon_geojson"])
    load_grids(session, tmp_path, "third", {"T": polygon.wkt})
    from onegrid.grids.repository import assign_point

    for lon, lat in fault["issue_points"]:
        assert assign_point(session, lon, lat)["third_grid_id"] is not None


def test_gcj02_report_lands_in_the_true_grid(client, session, tmp_path):
    fault = geo_fault("B05")["input"]
    load_grids(session, tmp_path, "third", fault["grids_wgs84"])
    gcj = fault["report_gcj02"]
    wgs = fault["report_wgs84"]
    a = post_case(client, gcj["lon"], gcj["lat"], crs="gcj02")
    b = post_case(client, wgs["lon"], wgs["lat"], crs="wgs84")
    assert a["third_code"] == b["third_code"] == "W"
    assert a["raw_crs"] == "gcj02" and a["raw_x"] == gcj["lon"]
    metres = session.scalar(
        sa.text(
            "SELECT ST_Distance(ST_MakePoint(:ax, :ay)::geography,"
            " ST_MakePoint(:bx, :by)::geography)"
        ),
        {"ax": a["lon"], "ay": a["lat"], "bx": b["lon"], "by": b["lat"]},
    )
    assert metres < 0.01
    # Ignoring the coordinate system would have put it in the neighbouring grid.
    assert post_case(client, gcj["lon"], gcj["lat"])["third_code"] == "E"


def test_swapped_axes_are_refused_with_the_reason(client, session, tmp_path):
    load_grids(session, tmp_path, "third", geo_fault("B01")["input"]["grids"])
    lon, lat = geo_fault("B06")["input"]["a_swapped_beijing"]["coordinates"]
    r = client.post("/api/cases", json={"lon": lon, "lat": lat, "description": "x"})
    assert r.status_code == 422
    assert "116.405" in r.json()["message"] and r.json()["field"] == "lat"


def test_swapped_axes_within_range_are_refused_as_far_from_every_grid(client, abcd):
    lon, lat = geo_fault("B06")["input"]["b_swapped_in_range"]["coordinates"]
    r = client.post("/api/cases", json={"lon": lon, "lat": lat, "description": "x"})
    assert r.status_code == 422
    assert "order of lon and lat" in r.json()["message"]
    assert client.get("/api/cases").json()["features"] == []


@pytest.mark.parametrize("fault_key", ["dedicated_grid_two_blocks", "simple_polygon"])
def test_polygon_and_multipolygon_both_become_multipolygon(client, session, tmp_path, fault_key):
    wkt = geo_fault("B11")["input"][fault_key]
    load_grids(session, tmp_path, "dedicated", {"Z": wkt})
    feature = client.get("/api/grids/Z").json()
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert len(feature["geometry"]["coordinates"]) == len(shapely.get_parts(shapely.from_wkt(wkt)))


def test_case_in_second_block_of_a_dedicated_grid_is_assigned_to_it(client, session, tmp_path):
    fault = geo_fault("B11")["input"]
    load_grids(session, tmp_path, "dedicated", {"Z": fault["dedicated_grid_two_blocks"]})
    x, y = shapely.from_wkt(fault["case_in_second_block"]).coords[0]
    case = post_case(client, x, y)
    assert case["dedicated_code"] == "Z" and case["responsible_code"] == "Z"


def test_mercator_numbers_without_crs_are_refused(client, session):
    r = client.post("/api/cases", json={"lon": 12958400, "lat": 4852000, "description": "x"})
    assert r.status_code == 422
    assert "outside" in r.json()["message"]
    bad = session.scalar(
        sa.text("SELECT count(*) FROM cases WHERE ST_SRID(geom) <> 4326 OR abs(ST_X(geom)) > 180")
    )
    assert bad == 0


def test_nested_and_dedicated_grids_give_one_grid_per_level_and_count_once(
    client, session, tmp_path
):
    fault = geo_fault("B16")["input"]
    code_wkt = {level: fault[level].split(" ", 1) for level in ("third", "micro", "dedicated")}
    load_grids(session, tmp_path, "third", {code_wkt["third"][0]: code_wkt["third"][1]})
    load_grids(session, tmp_path, "micro", {code_wkt["micro"][0]: code_wkt["micro"][1]})
    load_grids(session, tmp_path, "dedicated", {code_wkt["dedicated"][0]: code_wkt["dedicated"][1]})
    x, y = shapely.from_wkt(fault["case"].split(" ", 1)[1]).coords[0]
    case = post_case(client, x, y)
    assert (case["third_code"], case["micro_code"], case["dedicated_code"]) == (
        "G3-01",
        "M-0101",
        "Z-school",
    )
    assert case["responsible_code"] == "Z-school"  # dedicated takes precedence inside its area
    # A plain spatial join would give three rows; the per-level count sees the case once.
    grids = gpd.GeoDataFrame(
        {"code": [c for c, _ in code_wkt.values()]},
        geometry=[shapely.from_wkt(w) for _, w in code_wkt.values()],
        crs=4326,
    )
    points = gpd.GeoDataFrame(geometry=[shapely.Point(x, y)], crs=4326)
    assert len(gpd.sjoin(points, grids, predicate="intersects")) == 3
    third = client.get("/api/grids", params={"level": "third"}).json()["features"][0]
    assert third["properties"]["case_count"] == 1


def test_sliver_overlap_after_editing_is_refused_and_gap_point_goes_to_the_queue(
    client, session, tmp_path
):
    from onegrid.grids import service

    fault = geo_fault("B15")["input"]
    load_grids(session, tmp_path, "third", {"A": fault["A"]})
    path = tmp_path / "b.geojson"
    from tests.helpers import write_grid_file

    write_grid_file(path, {"B": fault["B_after_edit"]})
    report = service.import_grids(session, path, level="third")
    assert len(report.rejected) == 1
    reason = report.rejected[0].reason
    assert "overlaps third grid A" in reason
    overlap_m2 = float(reason.split(" by ")[1].split()[0])
    assert 8 < overlap_m2 < 11  # the fault says ~9.5 m²
    gap = shapely.from_wkt(fault["gap_point"]).coords[0]
    case = post_case(client, *gap)
    assert case["third_code"] is None and case["outside_coverage"] is True
    assert case["nearest_code"] == "A" and case["nearest_m"] < 0.05
    assert case["on_boundary"] is True


def test_boundary_and_nearest_distances_are_metres_not_degrees(session, tmp_path):
    """B21: 50 'metres' on a 4326 geometry would be 50 degrees; we measure on the spheroid."""
    from onegrid.grids.repository import assign_point, ensure_bands

    fault = geo_fault("B21")["input"]
    corner = shapely.from_wkt(fault["open_case"]).coords[0]
    # A thin triangle pointing north-east whose tip is the fault's open case: the tip is the
    # nearest point of the grid to every report, so the distances are the fault's own.
    x, y = corner
    triangle = f"POLYGON(({x} {y},{x - 0.01} {y - 0.001},{x - 0.001} {y - 0.01},{x} {y}))"
    load_grids(session, tmp_path, "third", {"A": triangle})
    ensure_bands(session, 50.0)  # FixMyStreet-style 50 m instead of the default 5 m
    expected_m = geo_fault("B21")["expected"]["distances_m"]
    for name, wkt in fault["new_reports"].items():
        px, py = shapely.from_wkt(wkt).coords[0]
        a = assign_point(session, px, py)
        assert a["outside_coverage"] is True
        assert a["nearest_m"] == pytest.approx(expected_m[name], abs=0.5), name
        assert a["on_boundary"] is (expected_m[name] <= 50), name
