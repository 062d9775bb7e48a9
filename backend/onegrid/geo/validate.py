"""Geometry and coordinate checks that say exactly what is wrong and where.

Raw GeoJSON is checked before shapely sees it, because ``shapely.geometry.shape``
silently closes unclosed rings (fault B07) and a bow-tie only shows up as a GEOS
validity reason (B09). Polygons always come back as MultiPolygon (B11) so one column
type holds every grid. Repairs are opt-in, use ``make_valid`` (never ``buffer(0)``,
which drops a lobe of a bow-tie) and are reported as warnings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from numbers import Real
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from onegrid.errors import InvalidGeometry

Extent = tuple[float, float, float, float]  # (minx, miny, maxx, maxy) in WGS 84 degrees

# A point further than this outside the extent cannot be a near-miss at the edge of
# the area served: it is a wrong axis order or coordinate system (faults B06, B12).
FAR_OUTSIDE_DEG = 0.5

_REASON_AT = re.compile(r"^(?P<what>.*?)\[(?P<x>\S+) (?P<y>\S+)(?: \S+)?\]$")


def fmt(value: float) -> str:
    """A coordinate as people write it: 116.395, not 116.39500000000001."""
    return f"{value:.10g}"


# --- polygons --------------------------------------------------------------------------


def polygon_from_geojson(geom: Any, *, repair: bool = False) -> tuple[MultiPolygon, list[str]]:
    """Check a raw GeoJSON Polygon/MultiPolygon dict and return it as a MultiPolygon.

    Raises InvalidGeometry naming the problem (wrong type, empty, too few points,
    unclosed ring, bad coordinates, self-intersection with its location). Z values are
    dropped with a warning. With ``repair=True`` unclosed rings are closed and invalid
    polygons are made valid (polygonal parts only); each repair is a warning.
    """
    if geom is None:
        raise InvalidGeometry("geometry is missing (null)")
    if not isinstance(geom, dict):
        raise InvalidGeometry(f"geometry must be a GeoJSON object, got {type(geom).__name__}")
    kind = geom.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidGeometry(f"expected a Polygon or MultiPolygon, got {_type_name(kind)}")
    coords = geom.get("coordinates")
    if coords is None or (isinstance(coords, list | tuple) and len(coords) == 0):
        raise InvalidGeometry(f"{kind} is empty (no coordinates)")
    if not isinstance(coords, list | tuple):
        raise InvalidGeometry(f"{kind} coordinates must be a list")
    polygons = [coords] if kind == "Polygon" else coords
    warnings: list[str] = []
    parts: list[list[np.ndarray]] = []
    had_z = False
    for p, rings in enumerate(polygons):
        if not isinstance(rings, list | tuple) or not rings:
            raise InvalidGeometry(f"polygon {p} is empty (no rings)")
        part = []
        for r, ring in enumerate(rings):
            array, ring_had_z = _ring_array(ring, f"ring {r} of polygon {p}")
            had_z = had_z or ring_had_z
            part.append(array)
        parts.append(part)
    if had_z:
        warnings.append("Z values dropped: grids and places are stored in 2-D")
    return _build_multipolygon(parts, repair, warnings), warnings


def polygon_from_shapely(
    geom: BaseGeometry | None, *, repair: bool = False
) -> tuple[MultiPolygon, list[str]]:
    """The same checks for a shapely geometry (read from GeoPackage, Shapefile or WKT)."""
    if geom is None:
        raise InvalidGeometry("geometry is missing (null)")
    if not isinstance(geom, Polygon | MultiPolygon):
        raise InvalidGeometry(f"expected a Polygon or MultiPolygon, got {geom.geom_type}")
    if geom.is_empty:
        raise InvalidGeometry(f"{geom.geom_type} is empty")
    warnings: list[str] = []
    if shapely.has_z(geom):
        warnings.append("Z values dropped: grids and places are stored in 2-D")
    polygons = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    parts = []
    for p, polygon in enumerate(polygons):
        rings = [polygon.exterior, *polygon.interiors]
        part = []
        for r, ring in enumerate(rings):
            array = np.asarray(ring.coords, dtype=float)[:, :2]
            _check_finite(array, f"ring {r} of polygon {p}")
            part.append(array)
        parts.append(part)
    return _build_multipolygon(parts, repair, warnings), warnings


def _type_name(kind: Any) -> str:
    if kind is None:
        return "an object without a 'type'"
    return f"a {kind}" if isinstance(kind, str) else repr(kind)


def _ring_array(ring: Any, where: str) -> tuple[np.ndarray, bool]:
    """Positions of one raw ring as an (n, 2) float array; reject non-numbers early."""
    if not isinstance(ring, list | tuple):
        raise InvalidGeometry(f"{where} must be a list of positions")
    had_z = False
    rows = []
    for i, position in enumerate(ring):
        if not isinstance(position, list | tuple) or len(position) < 2:
            raise InvalidGeometry(f"{where}, position {i}: expected [x, y], got {position!r}")
        had_z = had_z or len(position) > 2
        for value in position[:2]:
            # bool is an int in Python but never a coordinate.
            if isinstance(value, bool) or not isinstance(value, Real):
                raise InvalidGeometry(
                    f"{where}, position {i}: coordinate {value!r} is not a number"
                )
            if not math.isfinite(value):
                raise InvalidGeometry(f"{where}, position {i}: coordinate {value!r} is not finite")
        rows.append((float(position[0]), float(position[1])))
    return np.asarray(rows, dtype=float).reshape(-1, 2), had_z


def _check_finite(array: np.ndarray, where: str) -> None:
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidGeometry(f"{where}, position {i}: coordinate is NaN or infinite")


def _build_multipolygon(
    parts: list[list[np.ndarray]], repair: bool, warnings: list[str]
) -> MultiPolygon:
    polygons = []
    for p, rings in enumerate(parts):
        checked = [
            _checked_ring(ring, f"ring {r} of polygon {p}", repair, warnings)
            for r, ring in enumerate(rings)
        ]
        polygons.append(Polygon(checked[0], checked[1:]))
    multi = MultiPolygon(polygons)
    reason = shapely.is_valid_reason(multi)
    if reason == "Valid Geometry":
        return multi
    if not repair:
        raise InvalidGeometry(describe_invalidity(reason))
    return _repaired(multi, describe_invalidity(reason), warnings)


def _checked_ring(ring: np.ndarray, where: str, repair: bool, warnings: list[str]) -> np.ndarray:
    distinct = len(np.unique(ring, axis=0)) if len(ring) else 0
    if distinct < 3:
        raise InvalidGeometry(
            f"{where} has too few points: {len(ring)} positions, {distinct} distinct; "
            "a ring needs at least 3 distinct points and must end where it starts"
        )
    first, last = ring[0], ring[-1]
    if not np.array_equal(first, last):
        if not repair:
            raise InvalidGeometry(
                f"{where} is not closed: first ({fmt(first[0])} {fmt(first[1])}) "
                f"!= last ({fmt(last[0])} {fmt(last[1])})"
            )
        warnings.append(f"closed {where} by repeating its first point at the end")
        ring = np.vstack([ring, ring[:1]])
    return ring


def describe_invalidity(reason: str) -> str:
    """Turn a GEOS reason like 'Self-intersection[116.395 39.905]' into a sentence."""
    match = _REASON_AT.match(reason)
    if not match:
        return reason
    try:
        x, y = float(match["x"]), float(match["y"])
    except ValueError:
        return reason
    return f"{match['what']} at {fmt(x)} {fmt(y)}"


def _repaired(multi: MultiPolygon, reason: str, warnings: list[str]) -> MultiPolygon:
    fixed = shapely.make_valid(multi)
    polygonal = [g for g in shapely.get_parts(fixed) if isinstance(g, Polygon | MultiPolygon)]
    dropped = len(shapely.get_parts(fixed)) - len(polygonal)
    if not polygonal:
        raise InvalidGeometry(f"{reason}; repair left no polygon area")
    result = shapely.union_all(polygonal) if len(polygonal) > 1 else polygonal[0]
    result = as_multipolygon(result)
    note = f"repaired invalid geometry ({reason}) with make_valid: {len(result.geoms)} part(s)"
    if dropped:
        note += f", {dropped} line/point part(s) dropped"
    warnings.append(note)
    return result


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Polygon -> MultiPolygon([polygon]); MultiPolygon unchanged (fault B11)."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    raise InvalidGeometry(f"expected a Polygon or MultiPolygon, got {geom.geom_type}")


# --- points and places -----------------------------------------------------------------


def point_from_geojson(geom: Any) -> tuple[Point, list[str]]:
    """Check a raw GeoJSON Point dict (coordinates in the file's CRS)."""
    if geom is None:
        raise InvalidGeometry("geometry is missing (null)")
    if not isinstance(geom, dict):
        raise InvalidGeometry(f"geometry must be a GeoJSON object, got {type(geom).__name__}")
    kind = geom.get("type")
    if kind != "Point":
        raise InvalidGeometry(
            f"expected a Point, got {_type_name(kind)}; "
            "polygons are not turned into points for point places"
        )
    coords = geom.get("coordinates")
    if not isinstance(coords, list | tuple) or len(coords) == 0:
        raise InvalidGeometry("Point is empty (no coordinates)")
    array, had_z = _ring_array([coords], "Point")
    warnings = ["Z value dropped: places are stored in 2-D"] if had_z else []
    return Point(array[0]), warnings


def point_from_shapely(geom: BaseGeometry | None) -> tuple[Point, list[str]]:
    """Check a shapely Point read from a GeoPackage or Shapefile."""
    if geom is None:
        raise InvalidGeometry("geometry is missing (null)")
    if not isinstance(geom, Point):
        raise InvalidGeometry(
            f"expected a Point, got {geom.geom_type}; "
            "polygons are not turned into points for point places"
        )
    if geom.is_empty:
        raise InvalidGeometry("Point is empty")
    if not math.isfinite(geom.x) or not math.isfinite(geom.y):
        raise InvalidGeometry("Point coordinate is NaN or infinite")
    warnings = ["Z value dropped: places are stored in 2-D"] if geom.has_z else []
    return Point(geom.x, geom.y), warnings


PlaceGeometry = Literal["point", "polygon", "either"]


def place_geometry_from_geojson(
    geom: Any, kind_geometry: PlaceGeometry, repair: bool = False
) -> tuple[Point | MultiPolygon, list[str]]:
    """A place's geometry: a Point for point kinds (merchants), a MultiPolygon otherwise.

    A Polygon given for a point kind is rejected, not replaced by a representative
    point: a guessed location would put the place in a grid nobody chose. Kinds that may
    be either (an enterprise as a point or as its building) keep what they were given.
    """
    if kind_geometry == "either":
        is_point = isinstance(geom, dict) and geom.get("type") == "Point"
        kind_geometry = "point" if is_point else "polygon"
    if kind_geometry == "point":
        return point_from_geojson(geom)
    if kind_geometry == "polygon":
        return polygon_from_geojson(geom, repair=repair)
    raise ValueError(f"kind_geometry must be 'point' or 'polygon', not {kind_geometry!r}")


def place_geometry_from_shapely(
    geom: BaseGeometry | None, kind_geometry: PlaceGeometry, repair: bool = False
) -> tuple[Point | MultiPolygon, list[str]]:
    """The same as :func:`place_geometry_from_geojson` for shapely geometries."""
    if kind_geometry == "either":
        kind_geometry = "point" if geom is not None and geom.geom_type == "Point" else "polygon"
    if kind_geometry == "point":
        return point_from_shapely(geom)
    if kind_geometry == "polygon":
        return polygon_from_shapely(geom, repair=repair)
    raise ValueError(f"kind_geometry must be 'point' or 'polygon', not {kind_geometry!r}")


# --- longitude / latitude --------------------------------------------------------------


def check_lonlat(lon: Any, lat: Any, *, extent: Extent | None = None) -> str | None:
    """Why a WGS 84 lon/lat pair cannot be used, or None when it can.

    Reasons: missing/NaN, not a number, latitude outside [-90, 90], longitude outside
    [-180, 180], axes swapped (a latitude out of range that swapping fixes, or, with an
    ``extent``, a point far outside it whose swap lies inside), or far outside the extent.
    """
    values = []
    for name, value in (("longitude", lon), ("latitude", lat)):
        if value is None or (isinstance(value, str) and not value.strip()):
            values.append(math.nan)
            continue
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            return f"{name} {value!r} is not a number"
    return check_lonlat_arrays(np.array(values[:1]), np.array(values[1:]), extent)[0]


def check_lonlat_arrays(lon: Any, lat: Any, extent: Extent | None = None) -> np.ndarray:
    """Vectorised :func:`check_lonlat`: an object array of reasons (None where fine)."""
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    reasons = np.full(lon.shape, None, dtype=object)

    lon_nan, lat_nan = np.isnan(lon), np.isnan(lat)
    lon_out = ~lon_nan & ~(np.abs(lon) <= 180.0)  # also catches infinity
    lat_out = ~lat_nan & ~(np.abs(lat) <= 90.0)
    swap_fits = (np.abs(lat) <= 180.0) & (np.abs(lon) <= 90.0)

    inside = swapped_inside = far_outside = np.zeros(lon.shape, dtype=bool)
    if extent is not None:
        minx, miny, maxx, maxy = extent
        inside = (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
        swapped_inside = (lat >= minx) & (lat <= maxx) & (lon >= miny) & (lon <= maxy)
        m = FAR_OUTSIDE_DEG
        far_outside = ~(
            (lon >= minx - m) & (lon <= maxx + m) & (lat >= miny - m) & (lat <= maxy + m)
        )

    for i in np.flatnonzero(lon_nan | lat_nan | lon_out | lat_out | (far_outside & ~inside)):
        x, y = lon[i], lat[i]
        if lon_nan[i] and lat_nan[i]:
            reasons[i] = "longitude and latitude are missing"
        elif lon_nan[i] or lat_nan[i]:
            reasons[i] = f"{'longitude' if lon_nan[i] else 'latitude'} is missing"
        elif lat_out[i] and swap_fits[i]:
            reasons[i] = (
                f"latitude {fmt(y)} is outside [-90, 90]: latitude and longitude look swapped"
            )
        elif lon_out[i] or lat_out[i]:
            name, value, limit = ("longitude", x, 180) if lon_out[i] else ("latitude", y, 90)
            reasons[i] = f"{name} {fmt(value)} is outside [-{limit}, {limit}]"
            if abs(x) > 1000 or abs(y) > 1000:
                reasons[i] += _projected_hint(x)
        elif swapped_inside[i]:
            reasons[i] = (
                f"latitude and longitude look swapped: ({fmt(x)} {fmt(y)}) is far "
                f"outside the area served but ({fmt(y)} {fmt(x)}) is inside it"
            )
        else:
            reasons[i] = (
                f"point ({fmt(x)} {fmt(y)}) is far outside the area served "
                f"{_fmt_extent(extent)}: wrong coordinate system or axis order?"
            )
    return reasons


def _fmt_extent(extent: Sequence[float] | None) -> str:
    return "(" + " ".join(fmt(v) for v in extent or ()) + ")"


def _projected_hint(x: float) -> str:
    """Which projected CRS numbers like these usually come in, for the error message."""
    zone = int(abs(x) // 1_000_000) if math.isfinite(x) else 0
    if 25 <= zone <= 45:  # a Gauss-Kruger easting with its 3-degree zone number in front
        return (
            f": these look like CGCS2000 3-degree Gauss-Kruger metres, zone {zone} "
            f"(--crs EPSG:{4513 + zone - 25})"
        )
    return ": these look like projected metres; say which CRS (e.g. EPSG:3857)"
