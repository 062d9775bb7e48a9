"""Coordinate systems used in China and conversion to WGS 84 (EPSG:4326).

OneGrid stores WGS 84 only and converts at the edge (API input, file import, display).
GCJ-02 ("Mars coordinates", AMap/Tencent/WeChat) and BD-09 (Baidu) are not EPSG
systems: they are published obfuscation formulas, implemented here with numpy so a
million points convert in a fraction of a second. Their inverses have no closed form;
we invert them by iterating the forward formula, which is exact to well under a
millimetre instead of the metres of error left by the usual one-step inverse.

All functions take scalars or numpy arrays and return the same kind; NaN passes through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from onegrid.errors import UnknownCRS

ACCEPTED_FORMS = "wgs84, cgcs2000, gcj02, bd09, or an EPSG code such as EPSG:3857 or 4326"

# Krasovsky 1940 ellipsoid, which the GCJ-02 formula uses.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# Residual at which the iterative inverses stop: 1e-9 degrees is about 0.1 mm.
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30

FloatOrArray = float | np.ndarray


@dataclass(frozen=True)
class CrsSpec:
    """A coordinate system we can convert from.

    ``name`` is canonical: 'wgs84', 'cgcs2000', 'gcj02', 'bd09' or 'EPSG:<code>'.
    ``definition`` is only set for a CRS declared by a file without an EPSG code
    (a .prj in WKT, say): it is what pyproj is given.
    """

    name: str
    epsg: int | None = None
    definition: str | None = None

    @property
    def is_wgs84_numerically(self) -> bool:
        """True when the numbers are already WGS 84 longitude/latitude (no conversion)."""
        return self.name in ("wgs84", "cgcs2000")

    @property
    def is_geographic(self) -> bool:
        """True when x/y are longitude/latitude in degrees (so range checks apply as-is)."""
        if self.name in ("wgs84", "cgcs2000", "gcj02", "bd09"):
            return True
        return _pyproj_crs(self.pyproj_input).is_geographic

    @property
    def pyproj_input(self) -> str:
        return self.definition or self.name

    def to_wgs84(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Convert x/y (arrays or scalars) in this CRS to WGS 84 (lon, lat) arrays."""
        return to_wgs84(x, y, self)


WGS84 = CrsSpec("wgs84", 4326)
CGCS2000 = CrsSpec("cgcs2000", 4490)
GCJ02 = CrsSpec("gcj02")
BD09 = CrsSpec("bd09")

_NAMED = {
    "wgs84": WGS84,
    "cgcs2000": CGCS2000,
    "gcj02": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,  # Baidu's own name for BD-09 longitude/latitude
}


def parse_crs(text: str | None) -> CrsSpec:
    """Read a user's CRS name; None or empty means WGS 84.

    Accepts wgs84 / cgcs2000 / gcj02 / bd09 (case, '-', '_' and spaces ignored),
    'EPSG:NNNN' in any case, or a bare EPSG number. EPSG:4326 and EPSG:4490 map to
    'wgs84' and 'cgcs2000' so every caller sees one name per system.
    """
    if text is None or not str(text).strip():
        return WGS84
    raw = str(text).strip()
    key = raw.lower().replace("-", "").replace("_", "").replace(" ", "")
    if key in _NAMED:
        return _NAMED[key]
    code_text = key[5:] if key.startswith("epsg:") else key
    if not code_text.isdigit():
        raise UnknownCRS(f"unknown CRS {raw!r}; accepted: {ACCEPTED_FORMS}", field="crs")
    return _from_epsg(int(code_text), raw)


def crs_from_declared(declared: Any) -> CrsSpec | None:
    """Turn a CRS declared by a file (pyproj CRS, 'EPSG:n', URN, WKT) into a CrsSpec.

    Returns None when nothing is declared. Files often carry WKT without an EPSG code
    (Shapefile .prj): we keep the WKT for pyproj rather than guessing a code.
    """
    if declared is None or (isinstance(declared, str) and not declared.strip()):
        return None
    if isinstance(declared, str):
        try:
            return parse_crs(declared)
        except UnknownCRS:
            pass
    try:
        crs = pyproj.CRS.from_user_input(declared)
    except pyproj.exceptions.CRSError as error:
        raise UnknownCRS(
            f"the file declares a CRS that cannot be read ({error}); accepted: {ACCEPTED_FORMS}",
            field="crs",
        ) from error
    code = crs.to_epsg()
    if code is not None:
        return _from_epsg(code, str(declared))
    return CrsSpec(crs.name or "custom", None, crs.to_wkt())


def _from_epsg(code: int, raw: str) -> CrsSpec:
    if code == 4326:
        return WGS84
    if code == 4490:
        return CGCS2000
    try:
        found = _pyproj_crs(f"EPSG:{code}")
    except pyproj.exceptions.CRSError as error:
        raise UnknownCRS(
            f"unknown CRS {raw!r}: EPSG:{code} does not exist; accepted: {ACCEPTED_FORMS}",
            field="crs",
        ) from error
    # Map coordinates are x/y on a geographic or projected CRS; a geocentric (x, y, z from
    # the Earth's centre) or vertical system would turn two numbers into nonsense.
    if not (found.is_geographic or found.is_projected):
        raise UnknownCRS(
            f"{raw!r} ({found.name}) is not a geographic or projected CRS for map coordinates",
            field="crs",
        )
    return CrsSpec(f"EPSG:{code}", code)


@lru_cache(maxsize=64)
def _pyproj_crs(user_input: str) -> pyproj.CRS:
    return pyproj.CRS.from_user_input(user_input)


@lru_cache(maxsize=64)
def _transformer_to_wgs84(user_input: str) -> pyproj.Transformer:
    # always_xy: we pass (x=lon/easting, y=lat/northing) whatever the CRS's axis order says.
    return pyproj.Transformer.from_crs(_pyproj_crs(user_input), "EPSG:4326", always_xy=True)


# --- GCJ-02 / BD-09 formulas -------------------------------------------------------------


def _as_arrays(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    return xa, ya, xa.ndim == 0 and ya.ndim == 0


def _result(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> tuple[Any, Any]:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def out_of_china(lon: Any, lat: Any) -> Any:
    """The rough mainland-China box outside which GCJ-02 is not applied (WGS = GCJ)."""
    lon_a, lat_a, _ = _as_arrays(lon, lat)
    return (lon_a < 72.004) | (lon_a > 137.8347) | (lat_a < 0.8293) | (lat_a > 55.8271)


def _gcj02_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (dlon, dlat) in degrees at a WGS 84 point, ignoring the box."""
    x = lon - 105.0
    y = lat - 35.0
    waves = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += waves
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += waves
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    # The formula yields metres-ish numbers on the Krasovsky ellipsoid: turn them into degrees.
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj02_offset(lon, lat)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_one_step(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Any, target_lon: np.ndarray, target_lat: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Refine a first guess until forward(guess) hits the target (fixed-point iteration).

    Both shifts vary slowly with position, so subtracting the residual converges in a
    few rounds. NaN residuals compare False and do not keep the loop running.
    """
    lon = lon.copy()
    lat = lat.copy()
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = forward(lon, lat)
        r_lon = f_lon - target_lon
        r_lat = f_lat - target_lat
        lon -= r_lon
        lat -= r_lat
        if not (np.any(np.abs(r_lon) > _TOLERANCE_DEG) or np.any(np.abs(r_lat) > _TOLERANCE_DEG)):
            break
    return lon, lat


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS 84 to GCJ-02; unchanged outside mainland China."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _result(*_wgs_to_gcj(lon_a, lat_a), scalar)


def gcj02_to_wgs84_one_step(lon: Any, lat: Any) -> tuple[Any, Any]:
    """The common approximate inverse (shift back by the shift at the GCJ point).

    Errs by up to a few metres; kept only to show (and test) why we iterate.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    dlon, dlat = _gcj02_offset(lon_a, lat_a)
    outside = out_of_china(lon_a, lat_a)
    return _result(
        np.where(outside, lon_a, lon_a - dlon), np.where(outside, lat_a, lat_a - dlat), scalar
    )


@overload
def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 to WGS 84, iterated to a residual below 1e-9 degrees (about 0.1 mm)."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    outside = out_of_china(lon_a, lat_a)
    guess_lon, guess_lat = gcj02_to_wgs84_one_step(lon_a, lat_a)
    w_lon, w_lat = _invert(_wgs_to_gcj, lon_a, lat_a, np.asarray(guess_lon), np.asarray(guess_lat))
    return _result(np.where(outside, lon_a, w_lon), np.where(outside, lat_a, w_lat), scalar)


@overload
def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 to Baidu BD-09 (applied everywhere, as Baidu does)."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _result(*_gcj_to_bd(lon_a, lat_a), scalar)


@overload
def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 to GCJ-02: the published approximate inverse, then iterated to exactness."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    guess_lon, guess_lat = _bd_to_gcj_one_step(lon_a, lat_a)
    return _result(*_invert(_gcj_to_bd, lon_a, lat_a, guess_lon, guess_lat), scalar)


@overload
def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS 84 to BD-09 (through GCJ-02)."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _result(*_gcj_to_bd(*_wgs_to_gcj(lon_a, lat_a)), scalar)


@overload
def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 to WGS 84 (through GCJ-02, both steps iterated)."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    g_lon, g_lat = bd09_to_gcj02(lon_a, lat_a)
    return _result(*gcj02_to_wgs84(np.asarray(g_lon), np.asarray(g_lat)), scalar)


# --- Any CRS to WGS 84 -------------------------------------------------------------------


def to_wgs84(x: Any, y: Any, crs: CrsSpec | str | None) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates in ``crs`` to WGS 84 (lon, lat) float arrays (at least 1-D)."""
    spec = crs if isinstance(crs, CrsSpec) else parse_crs(crs)
    xa = np.atleast_1d(np.asarray(x, dtype=float))
    ya = np.atleast_1d(np.asarray(y, dtype=float))
    if spec.is_wgs84_numerically:
        return xa.copy(), ya.copy()
    if spec.name == "gcj02":
        return gcj02_to_wgs84(xa, ya)
    if spec.name == "bd09":
        return bd09_to_wgs84(xa, ya)
    lon, lat = _transformer_to_wgs84(spec.pyproj_input).transform(xa, ya)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def transform_geometry_to_wgs84(geom: BaseGeometry, crs: CrsSpec | str | None) -> BaseGeometry:
    """Convert a shapely geometry to WGS 84 (2-D); returned unchanged when already WGS 84."""
    spec = crs if isinstance(crs, CrsSpec) else parse_crs(crs)
    if spec.is_wgs84_numerically:
        return geom

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], spec)
        return np.column_stack([lon, lat])

    return shapely.transform(geom, convert, include_z=False)
