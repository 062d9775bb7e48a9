"""Case use cases: bulk import with assignment, one new report, point lookup, export."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.orm import Session

from onegrid.cases import repository as repo
from onegrid.db.base import LEVELS
from onegrid.errors import (
    CaseNotFound,
    Conflict,
    GridNotFound,
    InvalidCoordinates,
    InvalidInput,
)
from onegrid.geo import crs as geo_crs
from onegrid.geo.validate import check_lonlat
from onegrid.grids import repository as grids_repo
from onegrid.ingest import readers
from onegrid.ingest.report import ImportReport

Progress = Callable[[str], None]
BEIJING = ZoneInfo("Asia/Shanghai")

# How far beyond the loaded grids a point may lie before "swapped axes?" is worth asking.
EXTENT_MARGIN_DEG = 0.5
# A report farther than this from every grid is a wrong coordinate system, not a case.
FAR_OUTSIDE_M = 50_000
EARLIEST_REPORT = datetime(1990, 1, 1, tzinfo=BEIJING)
CLOCK_SKEW = timedelta(hours=1)

EXPORT_FORMATS = ("csv", "geojson")
EXPORT_COLUMNS = (
    "external_id",
    "lon",
    "lat",
    "street_code",
    "second_code",
    "third_code",
    "micro_code",
    "dedicated_code",
    "responsible_code",
    "on_boundary",
    "outside_coverage",
    "nearest_code",
    "nearest_m",
    "assignment_rule",
    "category",
    "category_code",
    "description",
    "source",
    "status",
    "reported_at",
    "raw_x",
    "raw_y",
    "raw_crs",
    "location_note",
)


def _search_extent(session: Session) -> tuple[float, float, float, float] | None:
    extent = grids_repo.coverage_extent(session)
    if extent is None:
        return None
    minx, miny, maxx, maxy = extent
    m = EXTENT_MARGIN_DEG
    return (minx - m, miny - m, maxx + m, maxy + m)


@dataclass(frozen=True)
class CaseFields:
    """Which column of a case file holds what; None means "find it by its usual names"."""

    id: str | None = None
    lon: str | None = None
    lat: str | None = None
    category: str | None = None
    reported_at: str | None = None
    description: str | None = None
    status: str | None = None
    source: str | None = None

    def reader_options(self) -> dict[str, str | None]:
        return {f"{name}_field": value for name, value in asdict(self).items()}


def import_cases(
    session: Session,
    path: Path,
    *,
    fields: CaseFields = CaseFields(),
    crs: str | None = None,
    time_zone: str = "Asia/Shanghai",
    boundary_m: float = 5.0,
    chunk_rows: int = 100_000,
    layer: str | None = None,
    progress: Progress = lambda _: None,
) -> ImportReport:
    """Read, stage and assign cases in the caller's transaction (commit or roll back there).

    The file is streamed chunk by chunk into an unlogged staging table with COPY, so memory
    stays bounded; a few set-based statements then assign every case to its grids.
    """
    report = ImportReport(kind="cases", source=str(path), crs=geo_crs.parse_crs(crs).name)
    repo.create_staging(session)
    chunks = readers.iter_case_chunks(
        path,
        crs=crs,
        **fields.reader_options(),
        time_zone=time_zone,
        extent=_search_extent(session),
        chunk_size=chunk_rows,
        layer=layer,
    )
    staged = 0
    for chunk in chunks:
        if chunk.ignored_columns and not report.warnings:
            report.warnings.append(
                "columns not imported (no field takes them): " + ", ".join(chunk.ignored_columns)
            )
        report.rejected.extend(chunk.rejected)
        frame = chunk.rows
        report.read += len(frame) + len(chunk.rejected)
        staged += repo.copy_into_staging(session, _staging_frame(frame))
        progress(f"read {report.read:,} rows, staged {staged:,}, rejected {len(report.rejected):,}")

    # Reports stored by an earlier import are skipped, not rejected: importing a file again,
    # or a longer version of it, adds just what is new.
    already_stored = repo.remove_stored_ids(session)
    progress(f"assigning {staged:,} cases to grids")
    grids_repo.ensure_bands(session, boundary_m)
    summary = repo.assign_staged(session)
    report.accepted = summary["cases"]
    report.summary = {
        "already stored (skipped)": len(already_stored),
        "kept without location": summary["without_location"],
        "outside every grid": summary["outside_coverage"],
        f"on a boundary (within {boundary_m:g} m)": summary["on_boundary"],
        "shared edge/corner tie-breaks": summary["tie_broken"],
    }
    report.rejected.sort(key=lambda r: r.row if r.row is not None else r.index)
    return report


def _staging_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """A reader's chunk in the staging table's columns."""
    frame = rows.rename(columns={"row": "row_no"})
    if "category_code" not in frame:
        frame = frame.assign(category_code=None)
    note = frame["location_missing"].map({True: "no coordinates in the source", False: None})
    epoch = pd.Timestamp(0, tz="UTC")
    reported_us = ((frame["reported_at"] - epoch) // pd.Timedelta(microseconds=1)).astype("Int64")
    return frame.assign(location_note=note, reported_us=reported_us)


def write_cases(session: Session, progress: Progress = lambda _: None) -> int:
    progress("writing cases")
    return repo.insert_assigned(session)


def normalise_point(lon: Any, lat: Any, crs: str | None) -> tuple[float, float, str]:
    """Convert a reported point to WGS 84, refusing what cannot be a real location."""
    spec = geo_crs.parse_crs(crs)
    for name, value in (("lon", lon), ("lat", lat)):
        if value is None:
            raise InvalidCoordinates(f"{name} is required", field=name)
    reason = check_lonlat(lon, lat) if spec.is_geographic else None
    if reason:
        raise InvalidCoordinates(
            f"{reason} (lon={lon}, lat={lat}, crs={spec.name})",
            field="lat" if "lat" in reason.split()[0] else "lon",
        )
    x, y = geo_crs.to_wgs84(float(lon), float(lat), spec)
    wgs_lon, wgs_lat = float(x[0]), float(y[0])
    reason = check_lonlat(wgs_lon, wgs_lat)
    if reason:
        raise InvalidCoordinates(f"{reason} after converting from {spec.name}", field="lon")
    return wgs_lon, wgs_lat, spec.name


def create_case(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Store one reported case and assign it to its grids in one statement."""
    lon, lat, crs_name = normalise_point(data.get("lon"), data.get("lat"), data.get("crs"))
    now = datetime.now(BEIJING)
    reported_at = data.get("reported_at") or now
    if reported_at.tzinfo is None:
        raise InvalidInput(
            "reported_at needs a time zone offset, e.g. 2026-12-03T09:30:00+08:00",
            field="reported_at",
        )
    if not (EARLIEST_REPORT <= reported_at <= now + CLOCK_SKEW):
        raise InvalidInput(
            f"reported_at {reported_at.isoformat()} is in the future or before 1990",
            field="reported_at",
        )
    values = {
        "external_id": data.get("external_id")
        or f"W{datetime.now(BEIJING):%Y%m%d}-{uuid.uuid4().hex[:10]}",
        "category": data.get("category"),
        "category_code": data.get("category_code"),
        "description": data.get("description"),
        "source": data.get("source") or "api",
        "reported_at": reported_at,
        "lon": lon,
        "lat": lat,
        "raw_x": data.get("lon"),
        "raw_y": data.get("lat"),
        "raw_crs": crs_name,
    }
    stored = repo.insert_one(session, values)
    if stored and stored["outside_coverage"] and stored["nearest_m"] > FAR_OUTSIDE_M:
        # Raising rolls the request's transaction back: the case is not kept.
        raise InvalidCoordinates(
            f"({lon:.6f}, {lat:.6f}) is {stored['nearest_m'] / 1000:,.0f} km from every grid:"
            " check the coordinate system (crs) and the order of lon and lat",
            field="lon",
        )
    if stored is None:
        raise Conflict(
            f"a case with external_id {values['external_id']!r} already exists", field="external_id"
        )
    return in_beijing_time(stored)


def get_case(session: Session, case_id: int) -> dict[str, Any]:
    row = repo.get_case(session, case_id)
    if row is None:
        raise CaseNotFound(f"no case with id {case_id}", field="id")
    return in_beijing_time(row)


def in_beijing_time(row: dict[str, Any]) -> dict[str, Any]:
    """Times are stored with their zone and shown in Beijing time (UTC+8)."""
    return {
        k: v.astimezone(BEIJING) if isinstance(v, datetime) and v.tzinfo else v
        for k, v in row.items()
    }


def lookup(session: Session, lon: Any, lat: Any, crs: str | None) -> dict[str, Any]:
    """Which grids cover a point, as the assignment of a new case there would decide."""
    wgs_lon, wgs_lat, _ = normalise_point(lon, lat, crs)
    a = grids_repo.assign_point(session, wgs_lon, wgs_lat)
    names = grids_repo.grid_codes(
        session,
        [a[f"{level}_grid_id"] for level in LEVELS]
        + [a["responsible_grid_id"], a["nearest_grid_id"]],
    )

    def brief(grid_id: int | None) -> dict[str, Any] | None:
        g = names.get(grid_id) if grid_id is not None else None
        return {"code": g["code"], "name": g["name"]} if g else None

    responsible = names.get(a["responsible_grid_id"])
    nearest = names.get(a["nearest_grid_id"])
    return {
        "lon": wgs_lon,
        "lat": wgs_lat,
        "grids": {level: brief(a[f"{level}_grid_id"]) for level in LEVELS},
        "responsible": (
            {
                "code": responsible["code"],
                "name": responsible["name"],
                "level": responsible["level"],
            }
            if responsible
            else None
        ),
        "on_boundary": a["on_boundary"],
        "outside_coverage": a["outside_coverage"],
        "nearest": (
            {
                "code": nearest["code"],
                "name": nearest["name"],
                "distance_m": round(a["nearest_m"], 2),
            }
            if nearest
            else None
        ),
        "rule": a["assignment_rule"],
    }


def list_cases(
    session: Session,
    *,
    grid: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    status: str | None = None,
    outside_coverage: bool | None = None,
    limit: int = 5000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    grid_level = None
    if grid:
        rows = grids_repo.list_grids(session, code=grid, with_case_counts=False)
        if not rows:
            raise GridNotFound(f"no current grid with code {grid!r}", field="grid")
        grid_level = rows[0]["level"]
    return repo.list_cases(
        session,
        grid_code=grid,
        grid_level=grid_level,
        bbox=bbox,
        status=status,
        outside_coverage=outside_coverage,
        limit=limit,
        offset=offset,
    )


def case_properties(row: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in in_beijing_time(row).items() if k not in ("lon", "lat")}
    for key in ("reported_at", "created_at"):
        if props.get(key) is not None:
            props[key] = props[key].isoformat()
    if props.get("nearest_m") is not None:
        props["nearest_m"] = round(props["nearest_m"], 2)
    return props


def case_feature(row: dict[str, Any]) -> dict[str, Any]:
    geometry = (
        {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
        if row.get("lon") is not None
        else None
    )
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": geometry,
        "properties": case_properties(row),
    }


def _csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will show, not run: text that starts like a formula
    (=, +, -, @) gets a leading apostrophe, as OWASP advises for CSV exports."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_cases(session: Session, out: IO[str], fmt: str = "csv") -> int:
    """Write every case with its grid per level (one row per case), streaming."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(
            f"unknown export format {fmt!r}; expected {' or '.join(EXPORT_FORMATS)}",
            field="format",
        )
    rows: Iterator[dict[str, Any]] = repo.iter_cases(session)
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            props = case_properties(row)
            props["lon"], props["lat"] = row["lon"], row["lat"]
            writer.writerow([_csv_cell(props.get(c)) for c in EXPORT_COLUMNS])
            count += 1
        return count
    out.write('{"type": "FeatureCollection", "features": [\n')
    for row in rows:
        if count:
            out.write(",\n")
        out.write(json.dumps(case_feature(row), ensure_ascii=False, default=str))
        count += 1
    out.write("\n]}\n")
    return count
