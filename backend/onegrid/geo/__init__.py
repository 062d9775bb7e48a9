"""Pure geometry and coordinate-system helpers (no database)."""

from onegrid.geo.crs import (
    CrsSpec,
    bd09_to_gcj02,
    bd09_to_wgs84,
    crs_from_declared,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_crs,
    to_wgs84,
    transform_geometry_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from onegrid.geo.validate import (
    check_lonlat,
    check_lonlat_arrays,
    place_geometry_from_geojson,
    polygon_from_geojson,
    polygon_from_shapely,
)

__all__ = [
    "CrsSpec",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_lonlat",
    "check_lonlat_arrays",
    "crs_from_declared",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "parse_crs",
    "place_geometry_from_geojson",
    "polygon_from_geojson",
    "polygon_from_shapely",
    "to_wgs84",
    "transform_geometry_to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
