"""GCJ-02 / BD-09 / EPSG conversions against published vectors (faults B05, B12)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely import wkt
from shapely.geometry import Point, Polygon

from onegrid.errors import UnknownCRS
from onegrid.geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    gcj02_to_wgs84_one_step,
    parse_crs,
    to_wgs84,
    transform_geometry_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# (wgs lat, wgs lon, gcj lat, gcj lon) from googollee/eviltransform python/test.py.
EVILTRANSFORM_VECTORS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing (fault B05)
]
B05_GRIDS = {
    "W": wkt.loads(
        "POLYGON((116.370 39.905,116.381 39.905,116.381 39.920,116.370 39.920,116.370 39.905))"
    ),
    "E": wkt.loads(
        "POLYGON((116.381 39.905,116.392 39.905,116.392 39.920,116.381 39.920,116.381 39.905))"
    ),
}


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance, good to well under a millimetre at these scales."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def grids_containing(lon: float, lat: float) -> list[str]:
    return [name for name, grid in B05_GRIDS.items() if grid.covers(Point(lon, lat))]


@pytest.mark.parametrize("wgs_lat,wgs_lon,gcj_lat,gcj_lon", EVILTRANSFORM_VECTORS)
def test_wgs84_to_gcj02_matches_published_vectors(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    lon, lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert lon == pytest.approx(gcj_lon, abs=1e-9)
    assert lat == pytest.approx(gcj_lat, abs=1e-9)


@pytest.mark.parametrize("wgs_lat,wgs_lon,gcj_lat,gcj_lon", EVILTRANSFORM_VECTORS)
def test_gcj02_inverse_recovers_published_wgs84_to_a_centimetre(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert metres(lon, lat, wgs_lon, wgs_lat) < 0.01


def test_coordtransform_readme_vectors_for_116_404_39_915():
    # Published by wandergis/coordtransform (and used by hutool's CoordinateUtilTest).
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-12
    )
    assert gcj02_to_wgs84_one_step(116.404, 39.915) == pytest.approx(
        (116.39775550083061, 39.91359571849836), abs=1e-12
    )
    # Their bd09->gcj02 is the one-step inverse; ours is iterated, so a few cm apart.
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    assert metres(lon, lat, 116.39762729119315, 39.90865673957631) < 0.1


def test_gcj02_inverse_is_accurate_to_a_centimetre_across_china():
    lon, lat = np.meshgrid(np.linspace(74.0, 134.0, 61), np.linspace(18.5, 53.0, 36))
    lon, lat = lon.ravel(), lat.ravel()
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    error = max(metres(*p) for p in zip(lon, lat, back_lon, back_lat, strict=True))
    assert error < 0.01


def test_bd09_inverse_is_accurate_to_a_centimetre_across_china():
    lon, lat = np.meshgrid(np.linspace(74.0, 134.0, 31), np.linspace(18.5, 53.0, 18))
    lon, lat = lon.ravel(), lat.ravel()
    back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    error = max(metres(*p) for p in zip(lon, lat, back_lon, back_lat, strict=True))
    assert error < 0.01
    g_lon, g_lat = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert np.abs(g_lon - lon).max() < 1e-9 and np.abs(g_lat - lat).max() < 1e-9


def test_one_step_gcj02_inverse_is_worse_than_the_iterative_one():
    gcj_lon, gcj_lat = 116.38404722455657, 39.91334545536069
    one_lon, one_lat = gcj02_to_wgs84_one_step(gcj_lon, gcj_lat)
    it_lon, it_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    one_step_error = metres(one_lon, one_lat, 116.377817, 39.911954)
    iterative_error = metres(it_lon, it_lat, 116.377817, 39.911954)
    assert 0.5 < one_step_error < 1.0  # the fault file reports 0.83 m here
    assert iterative_error < 0.01


def test_gcj02_equals_wgs84_outside_mainland_china():
    assert wgs84_to_gcj02(-0.12, 51.5) == (-0.12, 51.5)  # London
    assert gcj02_to_wgs84(-0.12, 51.5) == (-0.12, 51.5)
    lon, lat = to_wgs84([-0.12], [51.5], "gcj02")
    assert (lon[0], lat[0]) == (-0.12, 51.5)


def test_b05_gcj02_report_converted_lands_in_grid_w_not_e():
    gcj_lon, gcj_lat = 116.38404722455657, 39.91334545536069
    assert grids_containing(gcj_lon, gcj_lat) == ["E"]  # coord_type ignored: wrong grid
    lon, lat = to_wgs84(gcj_lon, gcj_lat, parse_crs("gcj02"))
    assert grids_containing(lon[0], lat[0]) == ["W"]
    assert metres(lon[0], lat[0], 116.377817, 39.911954) < 0.01


def test_b05_wgs84_treated_as_gcj02_moves_about_550_metres():
    lon, lat = gcj02_to_wgs84(116.377817, 39.911954)
    assert 500 < metres(lon, lat, 116.377817, 39.911954) < 600


def test_b05_grid_vertex_drawn_on_gcj02_tiles_is_stored_shifted_west():
    lon, lat = gcj02_to_wgs84(116.381, 39.905)
    assert metres(lon, lat, 116.374775, 39.903612) < 1.0


def test_conversions_take_arrays_and_pass_nan_through():
    lon, lat = gcj02_to_wgs84(np.array([116.4, np.nan]), np.array([39.9, np.nan]))
    assert np.isfinite(lon[0]) and np.isnan(lon[1]) and np.isnan(lat[1])


@pytest.mark.parametrize(
    "text,name",
    [
        (None, "wgs84"),
        ("", "wgs84"),
        ("WGS84", "wgs84"),
        ("wgs-84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("4326", "wgs84"),
        ("epsg:4490", "cgcs2000"),
        ("CGCS2000", "cgcs2000"),
        ("GCJ-02", "gcj02"),
        ("gcj02", "gcj02"),
        ("bd09", "bd09"),
        ("epsg:3857", "EPSG:3857"),
        ("3857", "EPSG:3857"),
    ],
)
def test_parse_crs_accepts_the_documented_forms(text, name):
    assert parse_crs(text).name == name


@pytest.mark.parametrize("text", ["mars", "EPSG:99999", "utm50", "EPSG:"])
def test_parse_crs_rejects_unknown_systems_naming_the_accepted_forms(text):
    with pytest.raises(UnknownCRS, match="accepted: wgs84, cgcs2000, gcj02, bd09"):
        parse_crs(text)


def test_b12_mercator_metres_convert_with_epsg_3857():
    lon, lat = to_wgs84([12958400.0], [4852000.0], "EPSG:3857")
    assert lon[0] == pytest.approx(116.4073, abs=1e-3)
    assert lat[0] == pytest.approx(39.9040, abs=1e-3)


def test_cgcs2000_is_taken_as_wgs84_unchanged():
    lon, lat = to_wgs84([116.4], [39.9], "cgcs2000")
    assert (lon[0], lat[0]) == (116.4, 39.9)


def test_transform_geometry_to_wgs84_shifts_every_vertex_and_keeps_2d():
    square = Polygon(
        [(116.381, 39.905, 5), (116.392, 39.905, 5), (116.392, 39.92, 5), (116.381, 39.905, 5)]
    )
    moved = transform_geometry_to_wgs84(square, "gcj02")
    assert not moved.has_z
    first = moved.exterior.coords[0]
    assert metres(first[0], first[1], 116.374775, 39.903612) < 1.0
    assert transform_geometry_to_wgs84(square, None) is square


@pytest.mark.parametrize("code", ["EPSG:4978", "EPSG:5773"])
def test_geocentric_and_vertical_systems_are_refused_for_map_coordinates(code):
    with pytest.raises(UnknownCRS, match="not a geographic or projected"):
        parse_crs(code)
