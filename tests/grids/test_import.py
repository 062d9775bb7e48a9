"""Grid imports: the hierarchy rules, boundary versions, bad polygons, dry runs."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from tests.helpers import load_grids, write_grid_file
from tests.shared_data import geo_fault

from onegrid.errors import InvalidInput
from onegrid.grids import service

SQUARE = "POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"


def square(x0, y0, x1, y1) -> str:
    return SQUARE.format(x0=x0, y0=y0, x1=x1, y1=y1)


@pytest.fixture
def street_and_communities(session, tmp_path):
    load_grids(session, tmp_path, "street", {"S": square(116.0, 39.0, 116.2, 39.1)})
    load_grids(
        session,
        tmp_path,
        "second",
        {"C1": square(116.0, 39.0, 116.1, 39.1), "C2": square(116.1, 39.0, 116.2, 39.1)},
    )


def parent_of(session, code):
    return session.scalar(
        sa.text(
            "SELECT p.code FROM grids g JOIN grids p ON p.id = g.parent_id"
            " WHERE g.code = :c AND g.valid_to IS NULL"
        ),
        {"c": code},
    )


def test_parent_is_found_spatially_when_no_parent_field(session, tmp_path, street_and_communities):
    load_grids(session, tmp_path, "third", {"T1": square(116.1, 39.0, 116.15, 39.05)})
    assert parent_of(session, "T1") == "C2"
    assert parent_of(session, "C1") == "S"


def test_parent_from_parent_field_and_unknown_parent_is_rejected(
    session, tmp_path, street_and_communities
):
    path = write_grid_file(
        tmp_path / "t.geojson",
        {"T1": square(116.0, 39.0, 116.05, 39.05), "T2": square(116.05, 39.0, 116.1, 39.05)},
        community={"T1": "C1", "T2": "C9"},
    )
    report = service.import_grids(session, path, level="third", parent_field="community")
    assert [(r.code, r.field) for r in report.rejected] == [("T2", "community")]
    assert "C9" in report.rejected[0].reason
    service.write_grids(session, "third")
    assert parent_of(session, "T1") == "C1"


def test_grid_poking_out_of_its_parent_is_rejected_with_the_area(
    session, tmp_path, street_and_communities
):
    path = write_grid_file(tmp_path / "t.geojson", {"T": square(116.08, 39.0, 116.105, 39.05)})
    report = service.import_grids(session, path, level="third")
    assert len(report.rejected) == 1
    assert "pokes out of its parent C1" in report.rejected[0].reason
    assert "m²" in report.rejected[0].reason


def test_grid_in_no_parent_is_rejected(session, tmp_path, street_and_communities):
    path = write_grid_file(tmp_path / "t.geojson", {"T": square(117.0, 39.0, 117.1, 39.05)})
    report = service.import_grids(session, path, level="third")
    assert [r.reason for r in report.rejected] == ["lies in no second grid"]


def test_overlapping_siblings_in_one_file_reject_the_later_one(session, tmp_path):
    path = write_grid_file(
        tmp_path / "t.geojson",
        {"A": square(116.0, 39.0, 116.1, 39.1), "B": square(116.05, 39.0, 116.15, 39.1)},
    )
    report = service.import_grids(session, path, level="third")
    assert [r.code for r in report.rejected] == ["B"]
    assert "overlaps third grid A" in report.rejected[0].reason
    assert report.accepted == 1


def test_dedicated_grids_may_overlap_comprehensive_ones(session, tmp_path, street_and_communities):
    load_grids(session, tmp_path, "dedicated", {"Z": square(116.09, 39.01, 116.11, 39.02)})
    assert parent_of(session, "Z") == "S"


def test_reimporting_a_code_makes_a_new_boundary_version_and_cases_keep_the_old(
    session, tmp_path, client
):
    load_grids(session, tmp_path, "third", {"A": square(116.0, 39.0, 116.1, 39.1)})
    session.commit()
    case = client.post("/api/cases", json={"lon": 116.05, "lat": 39.05, "description": "x"}).json()
    load_grids(session, tmp_path, "third", {"A": square(116.0, 39.0, 116.2, 39.1)})
    versions = session.execute(
        sa.text("SELECT id, version, valid_to IS NULL AS current FROM grids ORDER BY version")
    ).all()
    assert [(v.version, v.current) for v in versions] == [(1, False), (2, True)]
    stored = session.scalar(
        sa.text("SELECT third_grid_id FROM cases WHERE id = :id"), {"id": case["id"]}
    )
    assert stored == versions[0].id
    assert (
        client.post("/api/cases", json={"lon": 116.15, "lat": 39.05, "description": "x"}).json()[
            "third_code"
        ]
        == "A"
    )


@pytest.mark.parametrize(
    ("fault", "key", "expected"),
    [
        ("B07", "grid_put", "not closed"),
        ("B08", "geojson", "too few"),
        ("B09", "lonlat", "116.395 39.905"),
    ],
)
def test_invalid_polygons_are_rejected_with_a_specific_reason(
    session, tmp_path, fault, key, expected
):
    geometry = geo_fault(fault)["input"][key]
    if isinstance(geometry, str):  # WKT
        import shapely

        geometry = json.loads(shapely.to_geojson(shapely.from_wkt(geometry)))
    good = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    path = tmp_path / "bad.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"code": "OK"}, "geometry": good},
                    {"type": "Feature", "properties": {"code": "BAD"}, "geometry": geometry},
                ],
            }
        )
    )
    report = service.import_grids(session, path, level="third")
    assert [(r.index, r.code) for r in report.rejected] == [(1, "BAD")]
    assert expected in report.rejected[0].reason.lower()
    assert report.accepted == 1
    service.write_grids(session, "third")
    invalid = session.scalar(sa.text("SELECT count(*) FROM grids WHERE NOT ST_IsValid(geom)"))
    assert invalid == 0


def test_bow_tie_repair_keeps_both_lobes(session, tmp_path):
    import shapely

    wkt = geo_fault("B09")["input"]["lonlat"]
    path = write_grid_file(tmp_path / "bow.geojson", {"X": wkt})
    report = service.import_grids(session, path, level="third", repair=True)
    assert not report.rejected and report.warnings
    service.write_grids(session, "third")
    area = session.scalar(sa.text("SELECT ST_Area(geom) FROM grids WHERE code = 'X'"))
    triangle = shapely.Polygon([(116.39, 39.90), (116.395, 39.905), (116.39, 39.91)]).area
    assert area == pytest.approx(2 * triangle)


def test_unclosed_ring_in_the_database_is_refused_by_a_constraint(session):
    with pytest.raises(sa.exc.DBAPIError):
        with session.begin_nested():
            session.execute(
                sa.text(
                    "INSERT INTO grids (code, name, level, geom) VALUES ('X', 'X', 'third',"
                    " ST_Multi(ST_GeomFromGeoJSON(:g)))"
                ),
                {"g": json.dumps(geo_fault("B07")["input"]["grid_put"])},
            )


def test_dry_run_changes_nothing(session_factory, tmp_path):
    path = write_grid_file(tmp_path / "t.geojson", {"A": square(116.0, 39.0, 116.1, 39.1)})
    with session_factory() as s:
        with s.begin():
            report = service.import_grids(s, path, level="third")
            assert report.accepted == 1
            s.rollback()
    with session_factory() as s:
        assert s.scalar(sa.text("SELECT count(*) FROM grids")) == 0


def test_unknown_field_and_level_are_clear_errors(session, tmp_path):
    path = write_grid_file(tmp_path / "t.geojson", {"A": square(116.0, 39.0, 116.1, 39.1)})
    with pytest.raises(InvalidInput, match="level"):
        service.import_grids(session, path, level="district")
    with pytest.raises(InvalidInput, match="bianma"):
        service.import_grids(session, path, level="third", code_field="bianma")


def test_a_new_parent_boundary_that_would_leave_children_outside_is_rejected(
    session, tmp_path, street_and_communities
):
    load_grids(session, tmp_path, "third", {"T1": square(116.0, 39.0, 116.05, 39.05)})
    path = write_grid_file(tmp_path / "c1.geojson", {"C1": square(116.06, 39.0, 116.1, 39.1)})
    report = service.import_grids(session, path, level="second")
    assert [r.code for r in report.rejected] == ["C1"]
    assert "leave its children outside: T1" in report.rejected[0].reason


def test_reimporting_an_unchanged_grid_makes_no_new_version(session, tmp_path):
    grids = {"A": square(116.0, 39.0, 116.1, 39.1)}
    load_grids(session, tmp_path, "third", grids)
    report = load_grids(session, tmp_path, "third", grids)
    assert report.summary["unchanged (no new version)"] == 1
    assert session.scalar(sa.text("SELECT count(*) FROM grids")) == 1


@pytest.mark.parametrize("tolerance", [float("nan"), float("inf"), -5.0])
def test_a_tolerance_that_is_not_a_finite_area_is_refused(session, tmp_path, tolerance):
    path = write_grid_file(tmp_path / "t.geojson", {"A": square(116.0, 39.0, 116.1, 39.1)})
    with pytest.raises(InvalidInput, match="tolerance"):
        service.import_grids(session, path, level="third", overlap_tolerance_m2=tolerance)


def test_cases_of_an_earlier_version_still_belong_to_the_grid(session, tmp_path, client):
    load_grids(session, tmp_path, "third", {"A": square(116.0, 39.0, 116.1, 39.1)})
    session.commit()
    client.post("/api/cases", json={"lon": 116.05, "lat": 39.05, "description": "x"})
    load_grids(session, tmp_path, "third", {"A": square(116.0, 39.0, 116.2, 39.1)})
    assert len(client.get("/api/cases", params={"grid": "A"}).json()["features"]) == 1
    grid = client.get("/api/grids", params={"level": "third"}).json()["features"][0]
    assert grid["properties"]["case_count"] == 1
