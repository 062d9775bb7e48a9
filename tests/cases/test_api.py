"""The HTTP API: layers, one case, reporting, point lookup, and clear errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from pyproj import Geod
from tests.helpers import load_grids
from tests.shared_data import geo_fault

from onegrid.auth.actor import Actor
from onegrid.cases import service

OFFICE = Actor("office", "street_admin")


def metres_to_a_west_edge() -> float:
    """Geodesic distance from (116.38, 39.905) to grid A's west edge at 116.39, by pyproj."""
    return Geod(ellps="WGS84").inv(116.38, 39.905, 116.39, 39.905)[2]


@pytest.fixture
def abcd(session, tmp_path):
    load_grids(session, tmp_path, "third", geo_fault("B01")["input"]["grids"])
    session.commit()


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/grids", "/api/grids/{code}", "/api/cases", "/api/lookup"} <= set(paths)


def test_grids_by_level_and_bbox(client, abcd):
    all_third = client.get("/api/grids", params={"level": "third"}).json()
    assert [f["id"] for f in all_third["features"]] == ["A", "B", "C", "D"]
    west = client.get("/api/grids", params={"bbox": "116.391,39.901,116.395,39.915"}).json()
    assert [f["id"] for f in west["features"]] == ["A", "C"]
    assert client.get("/api/grids", params={"level": "micro"}).json()["features"] == []


def test_unknown_grid_is_404_and_bad_parameters_are_422_with_the_field(client, abcd):
    r = client.get("/api/grids/NOPE")
    assert r.status_code == 404 and r.json()["field"] == "code"
    r = client.get("/api/grids", params={"level": "district"})
    assert r.status_code == 422 and r.json()["field"].endswith("level")
    r = client.get("/api/grids", params={"bbox": "1,2,3"})
    assert r.status_code == 422 and r.json()["field"] == "bbox"
    r = client.get("/api/cases", params={"grid": "NOPE"})
    assert r.status_code == 404


def test_post_answers_201_with_the_assignment_and_lists_it(client, abcd):
    r = client.post(
        "/api/cases",
        json={"lon": 116.395, "lat": 39.915, "category": "占道经营", "description": "早市占道"},
    )
    assert r.status_code == 201
    case = r.json()
    assert case["third_code"] == "C" and case["responsible_code"] == "C"
    assert case["assignment_rule"] == "covered" and case["on_boundary"] is False
    assert case["reported_at"].endswith("+08:00")
    layer = client.get("/api/cases", params={"grid": "C"}).json()
    assert [f["properties"]["external_id"] for f in layer["features"]] == [case["external_id"]]
    assert layer["features"][0]["geometry"]["coordinates"] == [116.395, 39.915]
    assert client.get("/api/cases", params={"grid": "A"}).json()["features"] == []
    assert client.get(f"/api/cases/{case['id']}").json()["external_id"] == case["external_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lat": 39.9}, "lon"),
        ({"lon": "east", "lat": 39.9}, "lon"),
        ({"lon": 116.4, "lat": 95}, "lat"),
        ({"lon": 200, "lat": 39.9}, "lon"),
        ({"lon": 116.4, "lat": 39.9, "crs": "mars"}, "crs"),
        ({"lon": 116.4, "lat": 39.9, "reported_at": "yesterday"}, "reported_at"),
        ({"lon": 116.4, "lat": 39.9, "reported_at": "2026-12-03T09:00:00"}, "reported_at"),
        ({"lon": 116.4, "lat": 39.9, "descripton": "misspelt"}, "descripton"),
    ],
)
def test_bad_reports_are_422_naming_the_field_and_store_nothing(client, session, body, field):
    r = client.post("/api/cases", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert "Traceback" not in r.text
    assert client.get("/api/cases").json()["features"] == []


def test_reusing_an_external_id_is_a_conflict_not_a_second_case(client, abcd):
    body = {"lon": 116.395, "lat": 39.905, "external_id": "WX-1", "description": "x"}
    assert client.post("/api/cases", json=body).status_code == 201
    again = client.post("/api/cases", json=body)
    assert again.status_code == 409 and again.json()["field"] == "external_id"
    assert len(client.get("/api/cases").json()["features"]) == 1


def test_lookup_says_which_grid_of_each_level_covers_a_point(client, abcd):
    r = client.get("/api/lookup", params={"lon": 116.40, "lat": 39.905})
    body = r.json()
    assert body["grids"]["third"]["code"] == "A" and body["grids"]["micro"] is None
    assert body["rule"] == "shared_boundary_tiebreak" and body["on_boundary"] is True
    outside = client.get("/api/lookup", params={"lon": 116.38, "lat": 39.905}).json()
    assert outside["outside_coverage"] is True
    assert outside["nearest"]["code"] == "A"
    assert outside["nearest"]["distance_m"] == pytest.approx(metres_to_a_west_edge(), abs=0.01)


def test_export_has_one_row_per_case_with_every_level(session, abcd, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("id,lon,lat\nx1,116.40,39.905\nx2,116.38,39.905\nx3,,\n")
    service.import_cases(session, path)
    service.write_cases(session)
    out = io.StringIO()
    assert service.export_cases(session, out, "csv", by=OFFICE, now=datetime.now(UTC)) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    for column in (
        "external_id lon lat street_code second_code third_code micro_code dedicated_code"
        " responsible_code on_boundary outside_coverage nearest_code nearest_m"
    ).split():
        assert column in rows[0]
    by_id = {r["external_id"]: r for r in rows}
    assert by_id["x1"]["third_code"] == "A" and by_id["x1"]["on_boundary"] == "True"
    assert by_id["x2"]["outside_coverage"] == "True" and by_id["x2"]["nearest_code"] == "A"
    assert float(by_id["x2"]["nearest_m"]) == pytest.approx(metres_to_a_west_edge(), abs=0.01)
    assert by_id["x3"]["lon"] == "" and by_id["x3"]["location_note"]
    geo = io.StringIO()
    service.export_cases(session, geo, "geojson", by=OFFICE, now=datetime.now(UTC))
    features = json.loads(geo.getvalue())["features"]
    assert len(features) == 3
    assert next(f for f in features if f["properties"]["external_id"] == "x1")["geometry"][
        "coordinates"
    ] == [116.40, 39.905]


def test_a_report_far_from_every_grid_is_refused_and_not_kept(client, abcd):
    r = client.post("/api/cases", json={"lon": 0.0, "lat": 0.0, "description": "x"})
    assert r.status_code == 422 and "km from every grid" in r.json()["message"]
    assert client.get("/api/cases").json()["features"] == []
    near = client.post("/api/cases", json={"lon": 116.38, "lat": 39.905, "description": "x"})
    assert near.status_code == 201 and near.json()["outside_coverage"] is True


@pytest.mark.parametrize("when", ["2999-01-01T08:00:00+08:00", "1900-01-01T08:00:00+08:00"])
def test_impossible_report_times_are_refused(client, abcd, when):
    r = client.post(
        "/api/cases", json={"lon": 116.395, "lat": 39.905, "reported_at": when, "description": "x"}
    )
    assert r.status_code == 422 and r.json()["field"] == "reported_at"


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/grids/%00", None),
        ("get", "/api/cases?grid=a%00b", None),
        ("get", "/api/cases?status=%00", None),
        ("get", "/api/cases?offset=9223372036854775808", None),
        ("get", "/api/lookup?lon=116.4&lat=39.9&crs=" + "9" * 5000, None),
        ("post", "/api/cases", {"lon": 116.395, "lat": 39.905, "category": "a\u0000b"}),
        ("get", "/api/no-such-route", None),
        ("get", "/api/cases/99999999999999999999999", None),
        ("get", "/api/cases/99999999999999999999999/events", None),
        ("post", "/api/cases/1/actions/%00", {"version": 1}),
        ("post", "/api/cases/99999999999999999999999/actions/screen", {"version": 1}),
        ("get", "/api/deadlines?as_of=yesterday", None),
        ("get", "/api/attachments/99999999999999999999999", None),
        # Far outside where these projections can be turned back into longitude and latitude.
        ("get", "/api/lookup?lon=1e10&lat=1e10&crs=EPSG:2385", None),
        ("get", "/api/lookup?lon=38500000&lat=3850000&crs=EPSG:32650", None),
        ("post", "/api/cases", {"lon": 1e10, "lat": 1e10, "crs": "EPSG:2385", "description": "x"}),
    ],
)
def test_hostile_requests_get_a_clear_4xx_never_a_500(client, abcd, method, url, body):
    r = client.request(method.upper(), url, json=body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["message"]


def test_an_oversized_body_is_refused(client):
    r = client.post(
        "/api/cases",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


def test_csv_export_defuses_text_that_a_spreadsheet_would_run(session, abcd, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text('id,lon,lat,category\nx1,116.395,39.905,"=HYPERLINK(""http://x"")"\n')
    service.import_cases(session, path)
    service.write_cases(session)
    out = io.StringIO()
    service.export_cases(session, out, "csv", by=OFFICE, now=datetime.now(UTC))
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["category"].startswith("'=HYPERLINK")
    assert float(row["lon"]) == 116.395  # numbers are left alone


def test_a_chunked_oversized_body_is_refused_too(client):
    def chunks():
        for _ in range(40):
            yield b" " * 50_000

    r = client.post("/api/cases", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_text_too_long_is_measured_in_characters(client, abcd):
    r = client.post("/api/cases", json={"lon": 116.4, "lat": 39.9, "external_id": "号" * 101})
    assert r.status_code == 422 and r.json()["field"] == "external_id"
    assert "at most 100 characters, got 101" in r.json()["message"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/grids/A%00", "path"),
        ("/api/cases?grid=%00", "grid"),
        ("/api/deadlines?unit=D%0001", "unit"),
        ("/api/audit?actor=x%00", "actor"),
    ],
)
def test_a_nul_in_the_url_is_refused_naming_the_parameter(client, url, field):
    r = client.get(url)
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_grid_s_version_date_is_given_in_beijing_time(client, abcd):
    grid = client.get("/api/grids/A").json()
    assert grid["properties"]["valid_from"].endswith("+08:00"), grid["properties"]["valid_from"]
