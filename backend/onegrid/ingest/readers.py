"""Turn a file into validated rows (no database).

Grids and places: :func:`read_polygons` and :func:`read_places` read GeoJSON,
GeoPackage, Shapefile (plain or zipped) and CSV, check every feature and return the
accepted rows in WGS 84 plus a Rejection for each feature that must not be stored.
Cases: :func:`iter_case_chunks` streams CSV (and point GeoJSON/GPKG/Shapefile) in
chunks so a million-row export is read in bounded memory.

Nothing is guessed silently: a field named in the options but absent from the file
stops the whole import (InvalidInput naming the field and the fields available), and
every dropped row says why.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import math
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from onegrid.errors import InvalidGeometry, InvalidInput, Rejection
from onegrid.geo.crs import WGS84, CrsSpec, crs_from_declared, parse_crs, to_wgs84
from onegrid.geo.crs import transform_geometry_to_wgs84 as _to_wgs84_geometry
from onegrid.geo.validate import (
    Extent,
    PlaceGeometry,
    check_lonlat_arrays,
    describe_invalidity,
    place_geometry_from_geojson,
    place_geometry_from_shapely,
)
from onegrid.ingest.timeparse import DEFAULT_TIME_ZONE, parse_times, zone

GEOJSON_SUFFIXES = {".geojson", ".json"}
OGR_SUFFIXES = {".gpkg", ".shp", ".zip"}
CSV_SUFFIXES = {".csv", ".txt"}
EARLIEST_REPORT = pd.Timestamp("1990-01-01", tz="UTC")
CLOCK_SKEW = pd.Timedelta(hours=1)
MAX_ID_LENGTH = 100  # as the API allows

# Column names tried, in order and ignoring case, when the caller names no field.
CASE_FIELD_CANDIDATES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "longitude", "long", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "external_id": ("external_id", "id", "case_id", "编号", "工单编号", "工单号", "案件编号"),
    "category": ("category", "type", "类别", "问题类型", "事件类型", "案件类型"),
    "category_code": ("category_code", "type_code", "类别编码", "类型编码", "事件类型编码"),
    "reported_at": ("reported_at", "opened", "created_at", "time", "上报时间", "受理时间"),
    "description": ("description", "描述", "问题描述", "事件描述"),
    "status": ("status", "状态", "处理状态", "办理状态"),
    "source": ("source", "来源", "上报渠道"),
}
WKT_CANDIDATES = ("wkt", "geometry", "geom")
_EMPTY_TOKENS = ("", "nan", "null", "none", "na", "n/a")
_SNIFF_BYTES = 1 << 20


@dataclass(frozen=True)
class ReadWarning:
    """Something changed or dropped while reading a feature that was still accepted."""

    index: int
    text: str


@dataclass
class ReadResult:
    """Accepted rows plus every rejection and warning of one grid/place file."""

    rows: pd.DataFrame  # index, code, name, parent_code, geom_wkb, properties
    rejected: list[Rejection]
    warnings: list[ReadWarning]
    crs: str  # canonical name of the CRS the file was read in
    total: int  # features read
    source: str


@dataclass
class CaseChunk:
    """One chunk of a case file: rows to store and rows refused, with why."""

    rows: pd.DataFrame
    rejected: list[Rejection]
    total_rows: int  # rows read so far, this chunk included
    ignored_columns: tuple[str, ...] = ()  # columns of the file that no field takes


CASE_COLUMNS = [
    "row",
    "external_id",
    "category",
    "category_code",
    "description",
    "source",
    "status",
    "reported_at",
    "lon",
    "lat",
    "raw_x",
    "raw_y",
    "raw_crs",
    "location_missing",
]


# --- loading features -------------------------------------------------------------------


@dataclass
class _Features:
    """Features of any format, before validation."""

    geometries: list[Any]  # raw GeoJSON dicts, shapely geometries, or None
    properties: list[dict[str, Any]]
    fields: list[str]
    declared_crs: CrsSpec | None
    is_csv: bool = False
    geometry_errors: dict[int, str] = field(default_factory=dict)  # found while loading
    geometry_fields: tuple[str, ...] = ()  # CSV columns that held the geometry


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in GEOJSON_SUFFIXES | OGR_SUFFIXES | CSV_SUFFIXES:
        raise InvalidInput(
            f"cannot read {path.name}: use GeoJSON, GeoPackage (.gpkg), Shapefile (.shp or "
            ".zip) or CSV",
            field="file",
        )
    return suffix


def _load_features(path: Path, *, layer: str | None, geometry: PlaceGeometry) -> _Features:
    suffix = _suffix(path)
    if suffix in GEOJSON_SUFFIXES:
        return _read_geojson(path)
    if suffix in CSV_SUFFIXES:
        return _read_csv_features(path, geometry)
    return _read_ogr(path, layer)


def _read_geojson(path: Path) -> _Features:
    # Parsed with json, not GDAL, so unclosed rings reach the validator unchanged (B07).
    try:
        data = json.loads(path.read_bytes())
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path.name} is not valid JSON: {error}", field="file") from error
    if not isinstance(data, dict):
        raise InvalidInput(f"{path.name} is not a GeoJSON object", field="file")
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise InvalidInput(f"{path.name}: 'features' must be a list", field="file")
    elif kind == "Feature":
        features = [data]
    elif isinstance(kind, str) and "coordinates" in data:
        features = [{"type": "Feature", "geometry": data, "properties": {}}]
    else:
        raise InvalidInput(f"{path.name} is not a GeoJSON FeatureCollection", field="file")

    geometries: list[Any] = []
    properties: list[dict[str, Any]] = []
    fields: dict[str, None] = {}
    for feature in features:
        feature = feature if isinstance(feature, dict) else {}
        props = feature.get("properties")
        props = props if isinstance(props, dict) else {}
        fields.update(dict.fromkeys(props))
        geometries.append(feature.get("geometry"))
        properties.append(props)
    return _Features(geometries, properties, list(fields), _geojson_crs(data))


def _geojson_crs(data: dict[str, Any]) -> CrsSpec | None:
    """The old (2008) GeoJSON 'crs' member, still written by QGIS and ogr2ogr."""
    member = data.get("crs")
    if not isinstance(member, dict):
        return None
    name = (member.get("properties") or {}).get("name")
    if not isinstance(name, str):
        return None
    if "crs84" in name.lower():
        return WGS84
    return crs_from_declared(name)


def _read_ogr(path: Path, layer: str | None) -> _Features:
    source, read_layer, encoding = _ogr_source(path, layer)
    try:
        frame = pyogrio.read_dataframe(source, layer=read_layer, encoding=encoding)
    except pyogrio.errors.DataSourceError as error:
        raise InvalidInput(f"cannot read {path.name}: {error}", field="file") from error
    geometry_column = frame.geometry.name if hasattr(frame, "geometry") else None
    attributes = frame.drop(columns=[geometry_column]) if geometry_column else frame
    geometries = list(frame.geometry) if geometry_column else [None] * len(frame)
    return _Features(
        geometries=geometries,
        properties=attributes.to_dict("records"),
        fields=[str(c) for c in attributes.columns],
        declared_crs=crs_from_declared(getattr(frame, "crs", None)),
    )


def _ogr_source(path: Path, layer: str | None) -> tuple[str, str | None, str | None]:
    """What to hand pyogrio: (source, layer, encoding)."""
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
        if layer is not None and layer not in names:
            raise InvalidInput(
                f"layer {layer!r} not found in {path.name}; layers: {', '.join(names)}",
                field="layer",
            )
        if layer is None and len(names) > 1:
            # Taking the first layer silently has imported the wrong one before.
            raise InvalidInput(
                f"{path.name} holds {len(names)} layers ({', '.join(names)}): choose one "
                "with --layer",
                field="layer",
            )
        return str(path), layer or (names[0] if names else None), None
    if suffix == ".shp":
        cpg = path.with_suffix(".cpg")
        dbf = path.with_suffix(".dbf")
        if cpg.exists() or not dbf.exists():
            return str(path), None, None
        return str(path), None, _dbf_encoding(dbf.read_bytes()[:_SNIFF_BYTES])
    # A zipped Shapefile, possibly in a sub-folder: GDAL needs zip://file.zip!sub/name.shp.
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        shps = [n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
        if layer is not None:
            shps = [n for n in shps if layer in (Path(n).stem, n[:-4])]
        if len(shps) != 1:
            found = ", ".join(n[:-4] for n in shps) or "none"
            raise InvalidInput(
                f"{path.name} must hold exactly one Shapefile, or name one with --layer "
                f"(a name or folder/name); found: {found}",
                field="layer",
            )
        shp = shps[0]
        stem = shp[:-4].lower()
        encoding = None
        if f"{stem}.cpg" not in {n.lower() for n in names}:
            dbf_name = next((n for n in names if n.lower() == f"{stem}.dbf"), None)
            if dbf_name is not None:
                with archive.open(dbf_name) as handle:
                    encoding = _dbf_encoding(handle.read(_SNIFF_BYTES))
    return f"zip://{path}!{shp}", None, encoding


def _dbf_encoding(head: bytes) -> str | None:
    """Encoding for a .dbf without a .cpg file.

    GDAL then falls back to ISO-8859-1, which never fails and turns Chinese into
    mojibake. Chinese GIS tools often write GBK without a .cpg, so: UTF-8 when the bytes
    decode as UTF-8, GBK otherwise; a language driver id in the header wins.
    """
    language_driver = head[29] if len(head) > 29 else 0
    if language_driver:
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gbk"
    return "utf-8"


def _text_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or, failing that, GBK (Excel's CSV in China)."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidInput(
            f"{path.name} is UTF-16 (Excel's 'Unicode text'): save it as 'CSV UTF-8' and "
            "import that",
            field="file",
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gbk"
    return "utf-8-sig"


def _read_csv_text(path: Path, **options: Any) -> Any:
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding=_text_encoding(path), **options
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read {path.name} as CSV: {error}", field="file") from error


def _read_csv_features(path: Path, geometry: PlaceGeometry) -> _Features:
    frame = _read_csv_text(path)
    columns = [str(c) for c in frame.columns]
    errors: dict[int, str] = {}
    geometries: list[Any] = []
    if geometry == "polygon":
        wkt_column = _autodetect(columns, WKT_CANDIDATES)
        if wkt_column is None:
            raise InvalidInput(
                f"{path.name} has no WKT column ({', '.join(WKT_CANDIDATES)}); "
                f"available: {', '.join(columns)}",
                field="wkt",
            )
        used: tuple[str, ...] = (wkt_column,)
        for i, text in enumerate(frame[wkt_column]):
            text = text.strip()
            if not text:
                geometries.append(None)
                continue
            try:
                geometries.append(shapely.from_wkt(text))
            except shapely.errors.GEOSException as error:
                geometries.append(None)
                errors[i] = f"cannot read the WKT: {error}"
    else:
        lon_column, lat_column = _coordinate_columns(columns, None, None, path)
        used = (lon_column, lat_column)
        x, y, x_bad, y_bad, missing = _numbers(frame[lon_column], frame[lat_column])
        for i in range(len(frame)):
            if missing[i]:
                geometries.append(None)
            elif x_bad[i] or y_bad[i]:
                geometries.append(None)
                errors[i] = _coordinate_problem(frame, i, lon_column, lat_column, x_bad, y_bad)
            else:
                geometries.append(Point(x[i], y[i]))
    records = frame.drop(columns=list(used)).to_dict("records")
    fields = [c for c in columns if c not in used]
    return _Features(geometries, records, fields, None, True, errors, used)


# --- fields -----------------------------------------------------------------------------


def _autodetect(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    by_lower = {c.lower().strip(): c for c in columns}
    for candidate in candidates:
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


def _resolve_field(
    requested: str | None, columns: Sequence[str], option: str, path: Path
) -> str | None:
    """The file's column for a field the caller named (exact match first, then any case)."""
    if requested is None:
        return None
    if requested in columns:
        return requested
    found = _autodetect(columns, [requested])
    if found is None:
        raise InvalidInput(
            f"{option} {requested!r} not found in {path.name}; available fields: "
            f"{', '.join(columns) or '(none)'}",
            field=option,
        )
    return found


def _coordinate_columns(
    columns: Sequence[str], lon_field: str | None, lat_field: str | None, path: Path
) -> tuple[str, str]:
    lon = _resolve_field(lon_field, columns, "lon_field", path) or _autodetect(
        columns, CASE_FIELD_CANDIDATES["lon"]
    )
    lat = _resolve_field(lat_field, columns, "lat_field", path) or _autodetect(
        columns, CASE_FIELD_CANDIDATES["lat"]
    )
    if lon is None or lat is None:
        missing = "longitude" if lon is None else "latitude"
        raise InvalidInput(
            f"{path.name}: no {missing} column found (tried "
            f"{', '.join(CASE_FIELD_CANDIDATES['lon' if lon is None else 'lat'])}); name it "
            f"with {'lon_field' if lon is None else 'lat_field'}; available: {', '.join(columns)}",
            field="lon_field" if lon is None else "lat_field",
        )
    return lon, lat


# --- values -----------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _clean_code(value: Any) -> str | None:
    """A code as text: None when blank; 101.0 (a number column) becomes '101'."""
    if _is_missing(value):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value).strip()


def jsonable(value: Any) -> Any:
    """A property value as plain JSON: numpy scalars, NaN/NaT, times and bytes converted."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if _is_missing(value) and not isinstance(value, str):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _numbers(
    x_text: pd.Series, y_text: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse coordinate columns: (x, y, x_not_a_number, y_not_a_number, both_missing)."""
    out = []
    for text in (x_text, y_text):
        text = text.astype("string").str.strip()
        empty = (text.isna() | text.str.lower().isin(_EMPTY_TOKENS)).to_numpy(dtype=bool)
        numbers = pd.to_numeric(text.where(~empty), errors="coerce")
        values = numbers.to_numpy(dtype=float, na_value=np.nan)
        out.append((values, empty, ~empty & np.isnan(values)))
    (x, x_empty, x_bad), (y, y_empty, y_bad) = out
    # Half-missing counts as bad for the empty side; both empty means "no location".
    both = x_empty & y_empty
    return x, y, x_bad | (x_empty & ~both), y_bad | (y_empty & ~both), both


def _coordinate_problem(
    frame: pd.DataFrame,
    i: int,
    lon_column: str,
    lat_column: str,
    x_bad: np.ndarray,
    y_bad: np.ndarray,
) -> str:
    for column, bad, name in ((lon_column, x_bad, "longitude"), (lat_column, y_bad, "latitude")):
        if bad[i]:
            value = str(frame[column].iloc[i]).strip()
            if value == "" or value.lower() in _EMPTY_TOKENS:
                return f"{name} is missing while the other coordinate is given"
            return f"{name} {value!r} is not a number"
    return "bad coordinates"


def _coordinate_field(reason: str, lon_column: str, lat_column: str) -> str:
    if reason.startswith("longitude ") and not reason.startswith("longitude and"):
        return lon_column
    if reason.startswith("latitude ") and not reason.startswith("latitude and"):
        return lat_column
    return f"{lon_column},{lat_column}"


# --- grids and places -------------------------------------------------------------------


def read_polygons(
    path: str | Path,
    *,
    crs: str | None = None,
    code_field: str = "code",
    name_field: str | None = "name",
    parent_field: str | None = None,
    repair: bool = False,
    layer: str | None = None,
) -> ReadResult:
    """Read grid (or polygon place) boundaries; every feature needs a unique code.

    Geometry comes back as 2-D MultiPolygon WKB in WGS 84. The CRS is the caller's, else
    the one the file declares, else WGS 84. Pass ``name_field=None`` when there is no name.
    """
    path = Path(path)
    features = _load_features(path, layer=layer, geometry="polygon")
    return _validate_features(
        path,
        features,
        geometry="polygon",
        crs=crs,
        code_field=code_field,
        code_required=True,
        name_field=name_field,
        parent_field=parent_field,
        repair=repair,
    )


def read_places(
    path: str | Path,
    *,
    geometry: PlaceGeometry,
    crs: str | None = None,
    code_field: str | None = None,
    name_field: str | None = "name",
    repair: bool = False,
    layer: str | None = None,
) -> ReadResult:
    """Read places (merchants as points; courtyards, buildings as polygons).

    Same shape as :func:`read_polygons`; a place may have no code (None), but codes that
    are given must be unique, and a named code field must exist. A Polygon in a point
    layer is rejected rather than replaced by a guessed point.
    """
    if geometry not in ("point", "polygon", "either"):
        raise InvalidInput(
            f"geometry must be 'point', 'polygon' or 'either', not {geometry!r}",
            field="geometry",
        )
    path = Path(path)
    features = _load_features(path, layer=layer, geometry=geometry)
    return _validate_features(
        path,
        features,
        geometry=geometry,
        crs=crs,
        code_field=code_field,
        code_required=False,
        name_field=name_field,
        parent_field=None,
        repair=repair,
    )


def _choose_crs(crs: str | None, declared: CrsSpec | None, warnings: list[ReadWarning]) -> CrsSpec:
    """The caller's CRS wins: GCJ-02 data are routinely labelled EPSG:4326 by GIS tools."""
    if crs is None or not str(crs).strip():
        return declared or WGS84
    spec = parse_crs(crs)
    if declared is not None and declared != spec:
        warnings.append(
            ReadWarning(-1, f"the file declares {declared.name}; read as {spec.name} as requested")
        )
    return spec


def _validate_features(
    path: Path,
    features: _Features,
    *,
    geometry: PlaceGeometry,
    crs: str | None,
    code_field: str | None,
    code_required: bool,
    name_field: str | None,
    parent_field: str | None,
    repair: bool,
) -> ReadResult:
    if not features.geometries:
        raise InvalidInput(f"{path.name} has no features to import", field="file")
    columns = features.fields
    code_col = _resolve_field(code_field, columns, "code_field", path)
    name_col = _resolve_field(name_field, columns, "name_field", path)
    parent_col = _resolve_field(parent_field, columns, "parent_field", path)
    named = {c for c in (code_col, name_col, parent_col) if c is not None}

    warnings: list[ReadWarning] = []
    spec = _choose_crs(crs, features.declared_crs, warnings)
    rejected: list[Rejection] = []
    accepted: list[dict[str, Any]] = []
    first_index_of_code: dict[str, int] = {}

    for i, (geom, props) in enumerate(zip(features.geometries, features.properties, strict=True)):
        code = _clean_code(props.get(code_col)) if code_col else None

        def reject(reason: str, where: str | None, i: int = i, code: str | None = code) -> None:
            rejected.append(
                Rejection(i, reason, where, code, row=i + 2 if features.is_csv else None)
            )

        if code_required and code is None:
            reject("code is missing", code_col)
            continue
        if code is not None:
            if code in first_index_of_code:
                earlier = first_index_of_code[code]
                reject(f"duplicate code {code!r}: feature {earlier} already uses it", code_col)
                continue
            first_index_of_code[code] = i
        if i in features.geometry_errors:
            reject(features.geometry_errors[i], "geometry")
            continue
        try:
            shape, notes = _checked_geometry(geom, geometry, repair, features.is_csv)
            shape = _converted(shape, spec)
        except InvalidGeometry as error:
            reject(error.message, "geometry")
            continue
        warnings.extend(ReadWarning(i, note) for note in notes)
        accepted.append(
            {
                "index": i,
                "code": code,
                "name": None
                if name_col is None or _is_missing(props.get(name_col))
                else str(props[name_col]).strip(),
                "parent_code": _clean_code(props.get(parent_col)) if parent_col else None,
                "geom_wkb": shapely.to_wkb(shape, output_dimension=2),
                "properties": {str(k): jsonable(v) for k, v in props.items() if k not in named},
            }
        )

    rows = pd.DataFrame(
        accepted, columns=["index", "code", "name", "parent_code", "geom_wkb", "properties"]
    )
    return ReadResult(rows, rejected, warnings, spec.name, len(features.geometries), str(path))


def _checked_geometry(
    geom: Any, geometry: PlaceGeometry, repair: bool, is_csv: bool
) -> tuple[Point | MultiPolygon, list[str]]:
    if geom is None and is_csv and geometry == "point":
        raise InvalidGeometry("the place has no location (longitude and latitude are empty)")
    if isinstance(geom, BaseGeometry) or geom is None:
        return place_geometry_from_shapely(geom, geometry, repair)
    return place_geometry_from_geojson(geom, geometry, repair)


def _converted(shape: Point | MultiPolygon, spec: CrsSpec) -> Point | MultiPolygon:
    """To WGS 84, refusing coordinates out of range before or after conversion (B12)."""
    coords = shapely.get_coordinates(shape)
    if spec.is_geographic:
        _raise_first_bad(
            check_lonlat_arrays(coords[:, 0], coords[:, 1]), "coordinates out of range"
        )
    converted = _to_wgs84_geometry(shape, spec)
    if converted is shape:
        return shape
    coords = shapely.get_coordinates(converted)
    _raise_first_bad(
        check_lonlat_arrays(coords[:, 0], coords[:, 1]),
        f"coordinates out of range after conversion from {spec.name}",
    )
    reason = shapely.is_valid_reason(converted)
    if reason != "Valid Geometry":
        raise InvalidGeometry(
            f"invalid after conversion from {spec.name}: {describe_invalidity(reason)}"
        )
    return converted


def _raise_first_bad(reasons: np.ndarray, prefix: str) -> None:
    bad = [r for r in reasons if r is not None]
    if bad:
        raise InvalidGeometry(f"{prefix}: {bad[0]}")


# --- cases ------------------------------------------------------------------------------


class _SeenIds:
    """External ids seen so far, as 64-bit hashes with the row that first used them.

    A set of a million id strings costs ~70 MB; 16 bytes per id keeps memory bounded
    by the chunk. A false duplicate needs a 64-bit hash collision: negligible.
    """

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)
        self.rows = np.empty(0, dtype=np.int64)

    def earlier_rows(self, ids: pd.Series, rows: np.ndarray) -> np.ndarray:
        """For each id, the row that used it before (-1 if none); remembers new ids."""
        hashes = pd.util.hash_pandas_object(ids, index=False).to_numpy(dtype=np.uint64)
        earlier = np.full(len(hashes), -1, dtype=np.int64)
        if len(self.hashes):
            pos = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
            hit = self.hashes[pos] == hashes
            earlier[hit] = self.rows[pos[hit]]
        first_in_chunk = pd.Series(rows).groupby(hashes).transform("first").to_numpy()
        within = (first_in_chunk != rows) & (earlier < 0)
        earlier[within] = first_in_chunk[within]
        new = earlier < 0
        hashes_all = np.concatenate([self.hashes, hashes[new]])
        rows_all = np.concatenate([self.rows, rows[new]])
        order = np.argsort(hashes_all, kind="stable")
        self.hashes, self.rows = hashes_all[order], rows_all[order]
        return earlier


def iter_case_chunks(
    path: str | Path,
    *,
    crs: str | None = None,
    id_field: str | None = None,
    lon_field: str | None = None,
    lat_field: str | None = None,
    category_field: str | None = None,
    category_code_field: str | None = None,
    reported_at_field: str | None = None,
    description_field: str | None = None,
    status_field: str | None = None,
    source_field: str | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
    extent: Extent | None = None,
    chunk_size: int = 100_000,
    layer: str | None = None,
) -> Iterator[CaseChunk]:
    """Stream a case file as validated chunks (see :class:`CaseChunk` and CASE_COLUMNS).

    CSV is read ``chunk_size`` rows at a time; `row` is the line number (header = 1,
    exact unless a quoted value spans lines). Point GeoJSON/GPKG/Shapefile are read
    whole and yielded in chunks; there `row` is the 0-based feature index and
    lon_field/lat_field are not used (the geometry is the location).

    Fields not named are looked up among CASE_FIELD_CANDIDATES, ignoring case. Rows with
    both coordinates empty are kept with ``location_missing``; rows with half-missing,
    non-numeric, out-of-range or swapped coordinates, an unreadable time, or an
    external_id already used earlier in the file are rejected, one Rejection per row.
    Missing text is NA (None/NaN: test with pd.isna); a missing time is NaT (time
    unknown, not an error).
    """
    path = Path(path)
    zone(time_zone)  # fail before reading anything
    if chunk_size < 1:
        raise InvalidInput("chunk_size must be at least 1", field="chunk_size")
    options = {
        "external_id": ("id_field", id_field),
        "category": ("category_field", category_field),
        "category_code": ("category_code_field", category_code_field),
        "reported_at": ("reported_at_field", reported_at_field),
        "description": ("description_field", description_field),
        "status": ("status_field", status_field),
        "source": ("source_field", source_field),
    }
    suffix = _suffix(path)
    seen = _SeenIds()
    if suffix in CSV_SUFFIXES:
        spec = parse_crs(crs)
        columns = [str(c) for c in _read_csv_text(path, nrows=0).columns]
        lon_col, lat_col = _coordinate_columns(columns, lon_field, lat_field, path)
        mapping = _case_mapping(columns, options, path)
        used = list(dict.fromkeys([lon_col, lat_col, *(c for c in mapping.values() if c)]))
        ignored = tuple(c for c in columns if c not in used)
        total = 0
        reader = _read_csv_text(path, usecols=used, chunksize=chunk_size)
        for frame in reader:
            lines = np.arange(total + 2, total + 2 + len(frame), dtype=np.int64)
            total += len(frame)
            chunk = _case_chunk(
                frame,
                lines,
                lon_col,
                lat_col,
                mapping,
                spec,
                extent,
                time_zone,
                seen,
                total,
                True,
                {},
            )
            chunk.ignored_columns = ignored
            yield chunk
        return

    features = _load_features(path, layer=layer, geometry="point")
    spec = _choose_crs(crs, features.declared_crs, [])
    mapping = _case_mapping(features.fields, options, path)
    frame, errors = _point_frame(features, mapping)
    for start in range(0, len(frame), chunk_size):
        part = frame.iloc[start : start + chunk_size].reset_index(drop=True)
        rows = np.arange(start, start + len(part), dtype=np.int64)
        part_errors = {i - start: r for i, r in errors.items() if start <= i < start + len(part)}
        yield _case_chunk(
            part,
            rows,
            "x",
            "y",
            mapping,
            spec,
            extent,
            time_zone,
            seen,
            start + len(part),
            False,
            part_errors,
        )


def _case_mapping(
    columns: Sequence[str], options: dict[str, tuple[str, str | None]], path: Path
) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    for role, (option, requested) in options.items():
        mapping[role] = _resolve_field(requested, columns, option, path) or (
            None if requested else _autodetect(columns, CASE_FIELD_CANDIDATES[role])
        )
    return mapping


def _point_frame(
    features: _Features, mapping: dict[str, str | None]
) -> tuple[pd.DataFrame, dict[int, str]]:
    """Geo case files as the same string columns a CSV gives, plus geometry problems."""
    xs, ys = [], []
    errors: dict[int, str] = {}
    for i, geom in enumerate(features.geometries):
        x = y = math.nan
        if geom is not None:
            try:
                point, _ = _checked_geometry(geom, "point", False, False)
                x, y = point.x, point.y
            except InvalidGeometry as error:
                errors[i] = error.message
        xs.append(x)
        ys.append(y)
    data: dict[str, Any] = {"x": xs, "y": ys}
    for column in mapping.values():
        if column is not None:
            data[column] = [
                "" if _is_missing(p.get(column)) else str(p.get(column))
                for p in features.properties
            ]
    return pd.DataFrame(data), errors


def _content_ids(frame: pd.DataFrame, columns: list[str | None]) -> np.ndarray:
    """Ids for rows that carry none, made from what the row says (place, time, category...):
    the same report imported again from any file is recognised as already stored, and two
    identical rows in one file are caught as duplicates."""
    used = [c for c in dict.fromkeys(columns) if c is not None and c in frame]
    hashes = pd.util.hash_pandas_object(frame[used].astype(str), index=False).to_numpy()
    return np.array([f"h{h:016x}" for h in hashes], dtype=object)


def _case_chunk(
    frame: pd.DataFrame,
    rows: np.ndarray,
    lon_col: str,
    lat_col: str,
    mapping: dict[str, str | None],
    spec: CrsSpec,
    extent: Extent | None,
    time_zone: str,
    seen: _SeenIds,
    total_rows: int,
    is_csv: bool,
    errors: dict[int, str],
) -> CaseChunk:
    n = len(frame)
    reasons = np.full(n, None, dtype=object)
    where = np.full(n, None, dtype=object)
    for position, reason in errors.items():
        reasons[position], where[position] = reason, "geometry"

    # PostgreSQL text cannot hold a NUL character: refuse the row, not the whole file.
    for column in dict.fromkeys(c for c in mapping.values() if c and c in frame):
        has_nul = frame[column].astype("string").str.contains("\x00", regex=False)
        nul = has_nul.fillna(False).to_numpy(dtype=bool) & pd.isna(reasons)
        reasons[nul] = "contains a NUL character"
        where[nul] = column

    # Coordinates: the file's numbers, then WGS 84 for the rows that are usable.
    x, y, x_bad, y_bad, location_missing = _numbers(frame[lon_col], frame[lat_col])
    for i in np.flatnonzero((x_bad | y_bad) & pd.isna(reasons)):
        reasons[i] = _coordinate_problem(frame, int(i), lon_col, lat_col, x_bad, y_bad)
        where[i] = lon_col if x_bad[i] else lat_col
    usable = ~(x_bad | y_bad | location_missing) & pd.isna(reasons)
    if spec.is_geographic:
        raw_reasons = check_lonlat_arrays(x[usable], y[usable])
        _record(reasons, where, np.flatnonzero(usable), raw_reasons, lon_col, lat_col)
        usable &= pd.isna(reasons)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if usable.any():
        lon[usable], lat[usable] = to_wgs84(x[usable], y[usable], spec)
        converted = check_lonlat_arrays(lon[usable], lat[usable], extent)
        _record(reasons, where, np.flatnonzero(usable), converted, lon_col, lat_col)

    # Times: empty is "unknown" (NaT, kept); unreadable is rejected.
    time_col = mapping["reported_at"]
    if time_col is not None:
        reported_at, time_reasons = parse_times(frame[time_col], time_zone=time_zone)
        reported_at = reported_at.reset_index(drop=True)
        bad_time = time_reasons.notna().to_numpy() & pd.isna(reasons)
        reasons[bad_time] = time_reasons.to_numpy()[bad_time]
        where[bad_time] = time_col
    else:
        reported_at = pd.Series(pd.NaT, index=range(n), dtype="datetime64[us, UTC]")

    # Times outside what a report can have: before 1990, or ahead of the clock (an hour of
    # skew allowed). Both usually mean a wrong format or time zone rather than a real time.
    too_early = (reported_at < EARLIEST_REPORT).to_numpy() & pd.isna(reasons)
    too_late = (reported_at > pd.Timestamp.now(tz="UTC") + CLOCK_SKEW).to_numpy() & pd.isna(reasons)
    reasons[too_early] = "the time is before 1990: check the format and --time-zone"
    reasons[too_late] = "the time is in the future"
    where[too_early | too_late] = time_col

    # External ids: made from the row's content when absent; a repeat of an earlier id is
    # rejected.
    id_col = mapping["external_id"]
    ids = _text(frame, id_col)
    no_id = ids.isna().to_numpy()
    ids = ids.astype(object)
    ids[no_id] = _content_ids(frame, [lon_col, lat_col, *mapping.values()])[no_id]
    too_long = (ids.str.len().to_numpy(dtype=float, na_value=0) > MAX_ID_LENGTH) & pd.isna(reasons)
    reasons[too_long] = f"external_id is longer than {MAX_ID_LENGTH} characters"
    where[too_long] = id_col
    earlier = seen.earlier_rows(ids, rows)
    label = "row" if is_csv else "feature"
    for i in np.flatnonzero((earlier >= 0) & pd.isna(reasons)):
        reasons[i] = f"duplicate external_id {ids.iloc[i]!r}: {label} {earlier[i]} has the same id"
        where[i] = id_col

    bad = ~pd.isna(reasons)
    rejected = [
        Rejection(
            index=int(rows[i] - 1) if is_csv else int(rows[i]),
            reason=str(reasons[i]),
            field=where[i],
            code=str(ids.iloc[i]),
            row=int(rows[i]) if is_csv else None,
        )
        for i in np.flatnonzero(bad)
    ]
    keep = ~bad
    result = pd.DataFrame(
        {
            "row": rows,
            "external_id": ids.to_numpy(),
            "category": _text(frame, mapping["category"]).to_numpy(),
            "category_code": _text(frame, mapping["category_code"]).to_numpy(),
            "description": _text(frame, mapping["description"]).to_numpy(),
            "source": _text(frame, mapping["source"]).to_numpy(),
            "status": _text(frame, mapping["status"]).to_numpy(),
            "reported_at": reported_at,
            "lon": lon,
            "lat": lat,
            "raw_x": x,
            "raw_y": y,
            "raw_crs": spec.name,
            "location_missing": location_missing,
        }
    )
    return CaseChunk(result[keep].reset_index(drop=True), rejected, total_rows)


def _record(
    reasons: np.ndarray,
    where: np.ndarray,
    positions: np.ndarray,
    found: np.ndarray,
    lon_col: str,
    lat_col: str,
) -> None:
    for position, reason in zip(positions, found, strict=True):
        if reason is not None and reasons[position] is None:
            reasons[position] = reason
            where[position] = _coordinate_field(reason, lon_col, lat_col)


def _text(frame: pd.DataFrame, column: str | None) -> pd.Series:
    """A text column with blanks as None (object dtype), or all None when absent."""
    if column is None:
        return pd.Series(np.full(len(frame), None, dtype=object))
    text = frame[column].astype("string").str.strip().reset_index(drop=True)
    values = text.to_numpy(dtype=object, na_value=None)
    values[(text == "").fillna(True).to_numpy(dtype=bool)] = None
    return pd.Series(values, dtype=object)
