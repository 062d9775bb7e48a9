"""The real OpenStreetMap extract of the Bund (../shared/data/shanghai_bund_osm) imported as
places over grids generated here, checked against an independent geopandas computation."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import box
from tests.helpers import load_grids
from tests.shared_data import shared_data_path

from onegrid.places import osm
from onegrid.places import service as places_service

# The extract's area (PROVENANCE.md): the street; two communities split at 121.50 E (the
# Huangpu runs between the Bund and Lujiazui, near enough); a 4 x 4 lattice of grids.
WEST, SOUTH, EAST, NORTH = 121.480, 31.227, 121.520, 31.251
XS = [121.480, 121.490, 121.500, 121.510, 121.520]
YS = [31.227, 31.233, 31.239, 31.245, 31.251]


def lattice() -> dict[str, object]:
    """Third-level grids `W-r-c` / `E-r-c` (row r from the south, column c from the west)."""
    cells = {}
    for c in range(4):
        for r in range(4):
            community = "W" if c < 2 else "E"
            cells[f"{community}-{r + 1}-{c + 1}"] = box(XS[c], YS[r], XS[c + 1], YS[r + 1])
    return cells


@pytest.fixture
def extract():
    return shared_data_path("data", "shanghai_bund_osm")


@pytest.fixture
def bund(session, tmp_path, extract):
    """Grids over the extract, loaded with the product's grid import, then the OSM places."""
    load_grids(session, tmp_path, "street", {"BUND": box(WEST, SOUTH, EAST, NORTH).wkt})
    load_grids(
        session,
        tmp_path,
        "second",
        {
            "W": box(WEST, SOUTH, 121.50, NORTH).wkt,
            "E": box(121.50, SOUTH, EAST, NORTH).wkt,
        },
    )
    load_grids(session, tmp_path, "third", {code: cell.wkt for code, cell in lattice().items()})
    report = places_service.import_osm(session, extract)
    return report


STORED = """
    SELECT p.kind, p.code, p.outside_coverage, g.code AS third, g.level AS third_level,
           g.valid_to IS NULL AS current, p.properties->>'osm_layer' AS layer
    FROM places p LEFT JOIN grids g ON g.id = p.third_grid_id
"""


def test_every_place_lies_in_exactly_one_third_level_grid_or_is_flagged_outside(session, bund):
    stored = pd.DataFrame(session.execute(sa.text(STORED)).mappings().all())
    assert len(stored) == bund.accepted > 1000
    inside = stored[stored["third"].notna()]
    assert (inside["third_level"] == "third").all() and inside["current"].all()
    assert (stored["third"].isna() == stored["outside_coverage"]).all()
    assert (
        stored["code"].is_unique
        or stored.groupby("kind")["code"].apply(lambda codes: codes.is_unique).all()
    )


def test_per_grid_counts_of_each_kind_match_an_independent_geopandas_join(session, bund, extract):
    stored = pd.DataFrame(session.execute(sa.text(STORED)).mappings().all())
    # The same features, read by geopandas straight from the files: the point each place is
    # assigned at (a point on the surface of a footprint, the point of a POI), joined to
    # the same lattice with geopandas, not with the product's SQL.
    points = []
    for layer, group in stored.groupby("layer"):
        frame = gpd.read_file(extract / f"{layer}.geojson")
        frame["code"] = "osm:" + frame["id"].astype(str)
        frame = frame.drop(columns="kind").merge(group[["code", "kind"]], on="code")
        assert len(frame) == len(group), layer
        frame["geometry"] = frame.geometry.representative_point()
        points.append(frame[["code", "kind", "geometry"]])
    at = gpd.GeoDataFrame(pd.concat(points), geometry="geometry", crs="EPSG:4326")
    cells = gpd.GeoDataFrame(
        {"third": list(lattice())}, geometry=list(lattice().values()), crs="EPSG:4326"
    )
    joined = gpd.sjoin(at, cells, how="left", predicate="within")
    key = joined["kind"] + "/" + joined["code"]  # a building and its POI share an OSM id
    assert not key.duplicated().any()  # no point on a shared edge in this data

    expected = joined.dropna(subset=["third"]).groupby(["third", "kind"]).size()
    actual = stored.dropna(subset=["third"]).groupby(["third", "kind"]).size()
    assert actual.to_dict() == expected.to_dict()
    outside = set(
        joined.loc[joined["third"].isna(), "code"] + joined.loc[joined["third"].isna(), "kind"]
    )
    flagged = set(
        stored.loc[stored["outside_coverage"], "code"]
        + stored.loc[stored["outside_coverage"], "kind"]
    )
    assert outside == flagged
    assert actual.index.get_level_values("third").nunique() >= 12  # spread over the lattice


def test_the_mapping_takes_businesses_and_named_compounds_and_leaves_street_furniture(
    session, bund, extract
):
    kinds = dict(
        session.execute(
            sa.text("SELECT properties->>'osm_id' || '/' || kind, kind FROM places")
        ).all()
    )
    pois = gpd.read_file(extract / "pois.geojson")
    by_osm_kind = {
        k: {
            kinds.get(f"{i}/merchant")
            or kinds.get(f"{i}/enterprise")
            or kinds.get(f"{i}/resident_unit")
            for i in ids
        }
        for k, ids in pois.groupby("kind")["id"]
    }
    assert by_osm_kind["restaurant"] == {"merchant"}
    assert by_osm_kind["bank"] == {"enterprise"}
    assert by_osm_kind["bus_stop"] == {None} and by_osm_kind["traffic_signals"] == {None}
    landuse = gpd.read_file(extract / "landuse.geojson")
    named = landuse[(landuse["kind"] == "residential") & landuse["name"].notna()]
    courtyards = session.execute(
        sa.text("SELECT name, management_status FROM places WHERE kind = 'courtyard'")
    ).all()
    assert sorted(c.name for c in courtyards) == sorted(named["name"])
    assert {c.management_status for c in courtyards} == {"unmanaged"}
    buildings = gpd.read_file(extract / "buildings.geojson")
    footprints = buildings[(buildings["kind"] == "building") & ~buildings.geometry.is_empty]
    assert session.scalar(sa.text("SELECT count(*) FROM places WHERE kind = 'building'")) == len(
        footprints
    )
    address = session.scalar(
        sa.text("SELECT address FROM places WHERE kind = 'building' AND code = 'osm:-2380996'")
    )
    assert address == "中山东一路10-12号"


def test_unusable_geometries_are_rejected_with_a_reason_each(bund):
    reasons = {r.code: r.reason for r in bund.rejected}
    assert "empty geometry" in reasons["osm:4450117995"]
    assert "56 m apart" in reasons["osm:177998987"]  # one hotel, two places: not guessed


def test_pieces_of_one_point_are_merged_and_a_seam_repaired():
    point, notes = osm.osm_geometry(
        {"type": "MultiPoint", "coordinates": [[121.5, 31.24], [121.5000001, 31.24]]}, "point"
    )
    assert point.x == 121.5 and "merged" in notes[0]
    # Two halves of a footprint re-merged with a bow-tie where the tiles met.
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[121.5, 31.24], [121.501, 31.241], [121.501, 31.24], [121.5, 31.241], [121.5, 31.24]]
        ],
    }
    shape, notes = osm.osm_geometry(bow_tie, "polygon")
    assert shape.is_valid and len(shape.geoms) == 2 and "repaired" in notes[0]
