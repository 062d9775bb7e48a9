"""A new boundary version moves places between grids at once, and the import says so."""

from __future__ import annotations

import json

import sqlalchemy as sa
from tests.helpers import load_grids, write_grid_file

from onegrid.grids import service as grids_service
from onegrid.places import service as places_service

STREET = "POLYGON((113.60 34.76, 113.62 34.76, 113.62 34.78, 113.60 34.78, 113.60 34.76))"
WEST = "POLYGON((113.60 34.76, 113.61 34.76, 113.61 34.78, 113.60 34.78, 113.60 34.76))"
EAST = "POLYGON((113.61 34.76, 113.62 34.76, 113.62 34.78, 113.61 34.78, 113.61 34.76))"


def third_level(split_lat: float) -> dict[str, str]:
    """C1-01 south and C1-02 north of `split_lat` in the west; C2-01 the east."""
    s = split_lat
    return {
        "C1-01": f"POLYGON((113.60 34.76, 113.61 34.76, 113.61 {s}, 113.60 {s}, 113.60 34.76))",
        "C1-02": f"POLYGON((113.60 {s}, 113.61 {s}, 113.61 34.78, 113.60 34.78, 113.60 {s}))",
        "C2-01": EAST,
    }


# Buildings (small squares) and merchants (points): name -> (lon, lat) of the centre.
PLACES = {
    "south": (113.605, 34.765),  # C1-01 before and after
    "band-1": (113.603, 34.7715),  # C1-02 before, C1-01 after (the line moves north)
    "band-2": (113.607, 34.7735),
    "north": (113.605, 34.777),  # C1-02 before and after
    "east": (113.615, 34.771),  # C2-01, untouched by the change
}


def places_file(tmp_path, kind: str):
    def geometry(lon, lat):
        if kind == "merchant":
            return {"type": "Point", "coordinates": [lon, lat]}
        d = 0.0002
        ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}

    features = [
        {
            "type": "Feature",
            "properties": {"code": f"{kind}-{name}", "name": name},
            "geometry": geometry(*at),
        }
        for name, at in PLACES.items()
    ]
    path = tmp_path / f"{kind}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def third_codes(session) -> dict[str, str]:
    """Each place's third-level grid code; every place must name a current version."""
    rows = session.execute(
        sa.text(
            "SELECT p.code, g.code AS grid, g.valid_to IS NULL AS current FROM places p"
            " JOIN grids g ON g.id = p.third_grid_id"
        )
    ).all()
    assert all(r.current for r in rows), [r.code for r in rows if not r.current]
    return {r.code: r.grid for r in rows}


def test_a_changed_boundary_moves_the_places_it_passes_over_and_only_them(session, tmp_path):
    load_grids(session, tmp_path, "street", {"S": STREET})
    load_grids(session, tmp_path, "second", {"C1": WEST, "C2": EAST})
    load_grids(session, tmp_path, "third", third_level(34.770))
    for kind in ("building", "merchant"):
        report = places_service.import_places(session, places_file(tmp_path, kind), kind=kind)
        assert not report.rejected and report.accepted == len(PLACES)
    before = third_codes(session)
    assert before["building-band-1"] == "C1-02" and before["merchant-band-2"] == "C1-02"

    # The line between C1-01 and C1-02 moves 550 m north: a new version of both grids.
    path = write_grid_file(tmp_path / "third-v2.geojson", third_level(34.775))
    report = grids_service.import_grids(session, path, level="third")
    assert not report.rejected, [r.describe() for r in report.rejected]
    grids_service.write_grids(session, "third", report=report)

    after = third_codes(session)
    moved = {code for code in after if after[code] != before[code]}
    assert moved == {f"{kind}-band-{i}" for kind in ("building", "merchant") for i in (1, 2)}
    assert all(after[code] == "C1-01" for code in moved)
    assert report.summary["places moved to another grid"] == len(moved) == 4
    assert report.summary["places re-assigned"] == 2 * len(PLACES)
    assert sum("moved: third C1-02 → C1-01" in w for w in report.warnings) == 4
    # Every place points at the current version of its grids (third_codes checks it), and
    # the places that did not move keep their grid codes.
    assert {c: after[c] for c in after if c not in moved} == {
        c: before[c] for c in before if c not in moved
    }


def test_an_unchanged_boundary_moves_no_place(session, tmp_path):
    load_grids(session, tmp_path, "street", {"S": STREET})
    load_grids(session, tmp_path, "second", {"C1": WEST, "C2": EAST})
    load_grids(session, tmp_path, "third", third_level(34.770))
    places_service.import_places(session, places_file(tmp_path, "merchant"), kind="merchant")
    # A new version of C2-01 only, its east edge 50 m in: no place lies in that strip.
    east = "POLYGON((113.61 34.76, 113.6195 34.76, 113.6195 34.78, 113.61 34.78, 113.61 34.76))"
    path = write_grid_file(tmp_path / "east-v2.geojson", {"C2-01": east})
    report = grids_service.import_grids(session, path, level="third")
    assert report.summary["new boundary versions"] == 1
    grids_service.write_grids(session, "third", report=report)
    assert report.summary["places moved to another grid"] == 0
    assert report.summary["places re-assigned"] == len(PLACES)
