"""Geometry and coordinate checks: faults B06, B07, B08, B09, B11, B12."""

from __future__ import annotations

import math

import pytest
import shapely
from shapely import wkt
from shapely.geometry import MultiPolygon, Point

from onegrid.errors import InvalidGeometry
from onegrid.geo.validate import (
    check_lonlat,
    check_lonlat_arrays,
    place_geometry_from_geojson,
    polygon_from_geojson,
    polygon_from_shapely,
)

B07_GRID_PUT = {
    "type": "Polygon",
    "coordinates": [[[116.39, 39.9], [116.4, 39.9], [116.4, 39.91], [116.39, 39.91]]],
}
B07_BERLIN_RING = [
    [13.38966, 52.50868],
    [13.389662, 52.508123],
    [13.390692, 52.508123],
    [13.390692, 52.508683],
    [13.389662, 52.508683],
]
B08_TWO_POINTS = {
    "type": "Polygon",
    "coordinates": [[[116.4, 39.9], [116.41, 39.9], [116.4, 39.9]]],
}
B09_BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[116.39, 39.90], [116.40, 39.91], [116.40, 39.90], [116.39, 39.91], [116.39, 39.90]]
    ],
}
B11_TWO_BLOCKS = (
    "MULTIPOLYGON(((116.39 39.90,116.395 39.90,116.395 39.905,116.39 39.905,"
    "116.39 39.90)),((116.40 39.90,116.405 39.90,116.405 39.905,116.40 39.905,"
    "116.40 39.90)))"
)
B11_SIMPLE = "POLYGON((116.39 39.90,116.395 39.90,116.395 39.905,116.39 39.905,116.39 39.90))"
SQUARE = [[116.39, 39.90], [116.40, 39.90], [116.40, 39.91], [116.39, 39.91], [116.39, 39.90]]


def test_b07_unclosed_ring_is_rejected_naming_first_and_last_positions():
    with pytest.raises(InvalidGeometry) as error:
        polygon_from_geojson(B07_GRID_PUT)
    assert error.value.message == (
        "ring 0 of polygon 0 is not closed: first (116.39 39.9) != last (116.39 39.91)"
    )


def test_b07_unclosed_berlin_ring_is_rejected():
    with pytest.raises(
        InvalidGeometry,
        match=r"not closed: first \(13.38966 52.50868\) "
        r"!= last \(13.389662 52.508683\)",
    ):
        polygon_from_geojson({"type": "Polygon", "coordinates": [B07_BERLIN_RING]})


def test_b07_unclosed_ring_in_second_polygon_names_that_polygon():
    geom = {"type": "MultiPolygon", "coordinates": [[SQUARE], B07_GRID_PUT["coordinates"]]}
    with pytest.raises(InvalidGeometry, match="ring 0 of polygon 1 is not closed"):
        polygon_from_geojson(geom)


def test_b07_repair_closes_the_ring_and_says_so():
    geom, warnings = polygon_from_geojson(B07_GRID_PUT, repair=True)
    ring = geom.geoms[0].exterior.coords
    assert ring[0] == ring[-1] == (116.39, 39.9)
    assert geom.area == pytest.approx(1e-4)
    assert warnings == ["closed ring 0 of polygon 0 by repeating its first point at the end"]


def test_b08_ring_with_two_distinct_points_is_too_few_points():
    with pytest.raises(
        InvalidGeometry, match="ring 0 of polygon 0 has too few points: 3 positions, 2 distinct"
    ):
        polygon_from_geojson(B08_TWO_POINTS)
    with pytest.raises(InvalidGeometry, match="too few points"):
        polygon_from_geojson(B08_TWO_POINTS, repair=True)


def test_b09_bowtie_reason_names_the_self_intersection_point():
    with pytest.raises(InvalidGeometry) as error:
        polygon_from_geojson(B09_BOWTIE)
    assert error.value.message == "Self-intersection at 116.395 39.905"


def test_b09_unit_bowtie_from_shapely_names_5_5():
    with pytest.raises(InvalidGeometry, match=r"^Self-intersection at 5 5$"):
        polygon_from_shapely(wkt.loads("POLYGON((0 0,10 10,10 0,0 10,0 0))"))


def test_b09_repair_keeps_both_lobes_unlike_buffer_zero():
    bowtie = wkt.loads("POLYGON((0 0,10 10,10 0,0 10,0 0))")
    triangle = 25.0
    assert bowtie.buffer(0).area == pytest.approx(triangle)  # the folk fix loses a lobe
    repaired, warnings = polygon_from_shapely(bowtie, repair=True)
    assert isinstance(repaired, MultiPolygon) and len(repaired.geoms) == 2
    assert repaired.area == pytest.approx(2 * triangle)
    assert repaired.is_valid
    assert "repaired invalid geometry (Self-intersection at 5 5) with make_valid" in warnings[0]


def test_b09_lonlat_bowtie_repair_keeps_twice_one_triangle():
    repaired, _ = polygon_from_geojson(B09_BOWTIE, repair=True)
    one_triangle = 0.01 * 0.005 / 2
    assert repaired.area == pytest.approx(2 * one_triangle)


def test_b11_polygon_and_multipolygon_both_come_back_as_multipolygon():
    simple, _ = polygon_from_shapely(wkt.loads(B11_SIMPLE))
    two, _ = polygon_from_geojson(shapely.geometry.mapping(wkt.loads(B11_TWO_BLOCKS)))
    assert isinstance(simple, MultiPolygon) and len(simple.geoms) == 1
    assert isinstance(two, MultiPolygon) and len(two.geoms) == 2
    assert two.covers(Point(116.402, 39.902))


def test_polygon_geojson_as_dict_from_mapping_is_accepted():
    geom, warnings = polygon_from_geojson({"type": "Polygon", "coordinates": [SQUARE]})
    assert geom.geom_type == "MultiPolygon" and warnings == []


def test_point_given_for_a_polygon_layer_says_which_type():
    with pytest.raises(InvalidGeometry, match="expected a Polygon or MultiPolygon, got a Point"):
        polygon_from_geojson({"type": "Point", "coordinates": [116.4, 39.9]})
    with pytest.raises(InvalidGeometry, match="got Point"):
        polygon_from_shapely(Point(116.4, 39.9))


@pytest.mark.parametrize(
    "geom,message",
    [
        (None, "geometry is missing"),
        ({"type": "Polygon", "coordinates": []}, "Polygon is empty"),
        ({"type": "MultiPolygon", "coordinates": [[]]}, "polygon 0 is empty"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[116.39, 39.9], [116.4, None], [116.4, 39.91], [116.39, 39.9]]],
            },
            "position 1: coordinate None is not a number",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[116.39, 39.9], [116.4, "39.9"], [116.4, 39.91], [116.39, 39.9]]],
            },
            "coordinate '39.9' is not a number",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[116.39, 39.9], [116.4, math.nan], [116.4, 39.91], [116.39, 39.9]]
                ],
            },
            "coordinate nan is not finite",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[116.39], [116.4, 39.9], [116.4, 39.91], [116.39, 39.9]]],
            },
            r"position 0: expected \[x, y\]",
        ),
    ],
)
def test_bad_geojson_polygons_get_precise_reasons(geom, message):
    with pytest.raises(InvalidGeometry, match=message):
        polygon_from_geojson(geom)


def test_z_values_are_dropped_with_a_warning_not_an_error():
    ring = [[x, y, 12.5] for x, y in SQUARE]
    geom, warnings = polygon_from_geojson({"type": "Polygon", "coordinates": [ring]})
    assert not geom.has_z
    assert warnings == ["Z values dropped: grids and places are stored in 2-D"]


def test_overlapping_parts_of_a_multipolygon_are_reported_with_geos_reason():
    other = [
        [116.395, 39.905],
        [116.405, 39.905],
        [116.405, 39.915],
        [116.395, 39.915],
        [116.395, 39.905],
    ]
    with pytest.raises(InvalidGeometry, match="Self-intersection at"):
        polygon_from_geojson({"type": "MultiPolygon", "coordinates": [[SQUARE], [other]]})


def test_point_place_given_a_polygon_is_rejected_not_turned_into_a_point():
    with pytest.raises(InvalidGeometry, match="expected a Point, got a Polygon"):
        place_geometry_from_geojson({"type": "Polygon", "coordinates": [SQUARE]}, "point")
    point, _ = place_geometry_from_geojson({"type": "Point", "coordinates": [116.4, 39.9]}, "point")
    assert (point.x, point.y) == (116.4, 39.9)
    polygon, _ = place_geometry_from_geojson(
        {"type": "Polygon", "coordinates": [SQUARE]}, "polygon"
    )
    assert polygon.geom_type == "MultiPolygon"


def test_b06_swapped_beijing_point_latitude_outside_range():
    reason = check_lonlat(39.905, 116.405)
    assert reason == ("latitude 116.405 is outside [-90, 90]: latitude and longitude look swapped")


def test_b06_swapped_point_in_range_is_caught_with_an_extent():
    kashgar = (75.8, 39.3, 76.2, 39.7)
    assert "latitude and longitude look swapped" in check_lonlat(39.47, 75.99, extent=kashgar)
    beijing = (116.2, 39.7, 116.6, 40.1)
    assert "far outside the area served" in check_lonlat(39.47, 75.99, extent=beijing)
    assert check_lonlat(75.99, 39.47, extent=kashgar) is None


def test_point_just_outside_the_extent_is_not_rejected():
    # Near misses belong in the out-of-area queue with a nearest grid, not in rejections.
    assert check_lonlat(116.61, 39.9, extent=(116.2, 39.7, 116.6, 40.1)) is None


def test_b12_mercator_metres_without_crs_are_out_of_range():
    reason = check_lonlat(12958400, 4852000)
    assert reason.startswith("longitude 12958400 is outside [-180, 180]")
    assert "EPSG:3857" in reason


@pytest.mark.parametrize(
    "lon,lat,reason",
    [
        (None, None, "longitude and latitude are missing"),
        (math.nan, 39.9, "longitude is missing"),
        (116.4, "", "latitude is missing"),
        ("abc", 39.9, "longitude 'abc' is not a number"),
        (190.0, 39.9, "longitude 190 is outside [-180, 180]"),
        (116.4, -91.0, "latitude -91 is outside [-90, 90]"),
        (116.4, 39.9, None),
        ("116.4", "39.9", None),
    ],
)
def test_check_lonlat_reasons(lon, lat, reason):
    assert check_lonlat(lon, lat) == reason


def test_check_lonlat_arrays_matches_the_scalar_check():
    lons = [116.4, 39.905, 12958400.0, math.nan]
    lats = [39.9, 116.405, 4852000.0, math.nan]
    reasons = check_lonlat_arrays(lons, lats)
    assert list(reasons) == [check_lonlat(x, y) for x, y in zip(lons, lats, strict=True)]
    assert reasons[0] is None


def test_gauss_kruger_eastings_get_the_zone_crs_as_a_hint():
    reason = check_lonlat(38467512.0, 3820000.0)
    assert "zone 38" in reason and "EPSG:4526" in reason
