"""Place use cases: the registry (create, edit, read, list, export), imports from a file or
an OpenStreetMap extract, and re-assignment when boundaries change."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, cast
from zoneinfo import ZoneInfo

import pandas as pd
import shapely
from sqlalchemy.orm import Session

from onegrid.auth import repository as auth_repo
from onegrid.auth.actor import Actor
from onegrid.auth.scope import EVERYTHING, TERRITORY, Scope, place_scope
from onegrid.db.base import LEVELS
from onegrid.errors import (
    Conflict,
    Forbidden,
    GridNotFound,
    InvalidCoordinates,
    InvalidGeometry,
    InvalidInput,
    NotFound,
)
from onegrid.exports import ASSIGNMENT_EXPORT_COLUMNS, csv_cell
from onegrid.geo import crs as geo_crs
from onegrid.geo.validate import (
    PlaceGeometry,
    check_lonlat_arrays,
    describe_invalidity,
    place_geometry_from_geojson,
)
from onegrid.grids import repository as grids_repo
from onegrid.ingest import readers
from onegrid.ingest.fields import read_with_default_name
from onegrid.ingest.report import ImportReport
from onegrid.places import osm
from onegrid.places import repository as repo
from onegrid.places.models import MANAGEMENT_STATUSES, PLACE_KINDS

Progress = Callable[[str], None]
BEIJING = ZoneInfo("Asia/Shanghai")


def _text_or_none(value: Any) -> str | None:
    """pandas turns a missing text into NaN in a column of strings; the database wants NULL."""
    return None if value is None or pd.isna(value) else str(value)


def import_places(
    session: Session,
    path: Path,
    *,
    kind: str,
    code_field: str | None = "code",
    name_field: str | None = None,
    crs: str | None = None,
    repair: bool = False,
    boundary_m: float = 5.0,
    layer: str | None = None,
    progress: Progress = lambda _: None,
) -> ImportReport:
    """Upsert places of one kind (by code) and assign them, in the caller's transaction."""
    if kind not in PLACE_KINDS:
        raise InvalidInput(
            f"unknown place kind {kind!r}; expected one of {', '.join(PLACE_KINDS)}", field="kind"
        )
    progress(f"Reading {path}")
    read = read_with_default_name(
        readers.read_places,
        path,
        name_field,
        geometry=PLACE_KINDS[kind],
        crs=crs,
        code_field=code_field,
        repair=repair,
        layer=layer,
    )
    report = ImportReport(kind=f"places:{kind}", source=str(path), crs=read.crs, read=read.total)
    report.rejected.extend(read.rejected)
    report.warnings.extend(f"feature {w.index}: {w.text}" for w in read.warnings)

    rows: list[dict[str, Any]] = []
    for rec in read.rows.to_dict("records"):
        props = dict(rec.get("properties") or {})
        status = props.pop("management_status", None) if kind == "courtyard" else None
        if status is not None and status not in MANAGEMENT_STATUSES:
            report.reject(
                int(rec["index"]),
                f"unknown management_status {status!r}; expected "
                f"one of {', '.join(MANAGEMENT_STATUSES)}",
                field="management_status",
                code=rec.get("code"),
            )
            continue
        try:
            attributes = _file_attributes(kind, props)
        except InvalidInput as problem:
            report.reject(
                int(rec["index"]), problem.message, field=problem.field, code=rec.get("code")
            )
            continue
        rows.append(
            {
                **attributes,
                "index": int(rec["index"]),  # to name the feature if it is refused below
                "code": _text_or_none(rec.get("code")),
                "name": _text_or_none(rec.get("name")),
                "management_status": status,
                "properties": props,
                "geom_wkb": rec["geom_wkb"],
            }
        )
    rows = _near_the_grids(session, rows, report)
    codes = [r["code"] for r in rows if r["code"]]
    updated = len(repo.existing_codes(session, kind, codes))
    repo.upsert_places(session, kind, rows)
    progress(f"assigning {len(rows)} places to grids")
    grids_repo.ensure_bands(session, boundary_m)
    summary = repo.assign_places(session, kind)
    report.accepted = len(rows)
    report.summary = {
        "new places": len(rows) - updated,
        "updated (same code)": updated,
        f"{kind} places stored after import": summary["places"],
        "outside every grid": summary["outside_coverage"],
        "on a boundary": summary["on_boundary"],
    }
    report.rejected.sort(key=lambda r: r.index)
    return report


# Other names a ledger or an earlier export uses for the typed attributes.
FILE_ALIASES = {"start_date": "starts_on", "end_date": "ends_on", "licence": "licence_no"}
INTEGER_ATTRIBUTES = ("households", "residents")
FLAG_ATTRIBUTES = ("key_tax_source", "above_scale")
DATE_ATTRIBUTES = ("starts_on", "ends_on")
TRUE_TEXTS = {"true", "1", "yes", "y", "是", "t"}
FALSE_TEXTS = {"false", "0", "no", "n", "否", "f", ""}


def _file_attributes(kind: str, props: dict[str, Any]) -> dict[str, Any]:
    """The typed attributes of a kind taken out of a file's properties (the rest stays in
    `properties`), each read as its column's type; a value that cannot be is refused with
    the attribute named. Contact units are not taken from files: the registry checks them."""
    taken: dict[str, Any] = {}
    for key in list(props):
        name = FILE_ALIASES.get(key, key)
        if name not in KIND_ATTRIBUTES[kind] or name in ("management_status", "contact_unit_code"):
            continue
        value = props.pop(key)
        if value is None or (isinstance(value, float) and pd.isna(value)):
            continue
        text = str(value).strip()
        if name in INTEGER_ATTRIBUTES:
            number = pd.to_numeric(text, errors="coerce")
            if pd.isna(number) or number != int(number) or number < 0:
                raise InvalidInput(f"{name} {value!r} is not a whole number ≥ 0", field=name)
            taken[name] = int(number)
        elif name in FLAG_ATTRIBUTES:
            if text.lower() not in TRUE_TEXTS | FALSE_TEXTS:
                raise InvalidInput(f"{name} {value!r} is not true or false", field=name)
            taken[name] = text.lower() in TRUE_TEXTS
        elif name in DATE_ATTRIBUTES:
            try:
                taken[name] = date.fromisoformat(text[:10])
            except ValueError as error:
                message = f"{name} {value!r} is not a date (2026-03-01)"
                raise InvalidInput(message, field=name) from error
        else:
            taken[name] = text or None
    if taken.get("starts_on") and taken.get("ends_on") and taken["ends_on"] < taken["starts_on"]:
        raise InvalidInput(
            f"ends_on {taken['ends_on']} is before starts_on {taken['starts_on']}", field="ends_on"
        )
    return taken


# --- the registry: one place created, edited, read; lists and exports ------------------------


class PlaceNotFound(NotFound):
    """No place with this id, or one outside the person's scope (the same answer)."""


# Who edits the registry: the street office and its GIS editor everywhere; community staff
# and grid staff inside their own grid's subtree (and never moving a place out of it).
WHOLE_STREET_EDITORS = frozenset({"street_admin", "gis_editor"})
PLACE_EDITORS = WHOLE_STREET_EDITORS | TERRITORY

# The typed attributes each kind takes (name, code and properties: every kind).
KIND_ATTRIBUTES: dict[str, frozenset[str]] = {
    "building": frozenset({"address", "households", "residents"}),
    "courtyard": frozenset({"address", "households", "residents", "management_status"}),
    "merchant": frozenset({"address", "licence_no", "trade", "contact_unit_code"}),
    "enterprise": frozenset(
        {
            "address",
            "licence_no",
            "trade",
            "contact_unit_code",
            "key_tax_source",
            "above_scale",
            "service_officer",
        }
    ),
    "site": frozenset({"address", "contact_unit_code", "starts_on", "ends_on"}),
    "resident_unit": frozenset({"address", "trade", "contact_unit_code"}),
}
TYPED_ATTRIBUTES = frozenset().union(*KIND_ATTRIBUTES.values())
# A place keeps in touch with a department, a street office, a territory or a dedicated
# grid's unit; property companies come to courtyards through claims (红色物业认领).
CONTACT_UNIT_KINDS = ("department", "street_office", "community", "street", "dedicated_unit")
# What the API may set; red_property comes with an approved claim only.
SETTABLE_STATUSES = ("property_managed", "unmanaged")
FAR_OUTSIDE_M = 50_000  # as for cases: farther from every grid is a wrong coordinate system
EXPORT_FORMATS = ("csv", "geojson")
EXPORT_COLUMNS = (
    "id",
    "kind",
    *repo.ATTRIBUTES,
    "manager_unit_code",
    *ASSIGNMENT_EXPORT_COLUMNS,
    "lon",
    "lat",
    "attributes",
    "wkt",
)


def place_geometry(kind: str, geometry: Any, crs: str | None) -> tuple[bytes, dict[str, Any]]:
    """A place's GeoJSON geometry checked for its kind and converted to WGS 84: the WKB to
    store, and what to keep of the raw input (its system and coordinates) when converted."""
    try:
        shape, _ = place_geometry_from_geojson(geometry, cast(PlaceGeometry, PLACE_KINDS[kind]))
    except InvalidGeometry as error:
        raise InvalidGeometry(f"geometry of a {kind}: {error.message}", field="geometry") from error
    spec = geo_crs.parse_crs(crs)
    coords = shapely.get_coordinates(shape)
    if spec.is_geographic:
        _refuse_bad_lonlat(check_lonlat_arrays(coords[:, 0], coords[:, 1]), "")
    converted = geo_crs.transform_geometry_to_wgs84(shape, spec)
    raw: dict[str, Any] = {}
    if converted is not shape:
        coords = shapely.get_coordinates(converted)
        _refuse_bad_lonlat(
            check_lonlat_arrays(coords[:, 0], coords[:, 1]), f" after conversion from {spec.name}"
        )
        reason = shapely.is_valid_reason(converted)
        if reason != "Valid Geometry":
            raise InvalidGeometry(
                f"geometry is invalid after conversion from {spec.name}:"
                f" {describe_invalidity(reason)}",
                field="geometry",
            )
        raw = {"raw_crs": spec.name, "raw_geometry": geometry}
    return shapely.to_wkb(converted, output_dimension=2), raw


def _refuse_bad_lonlat(reasons: Any, where: str) -> None:
    bad = [r for r in reasons if r is not None]
    if bad:
        raise InvalidCoordinates(f"geometry{where}: {bad[0]}", field="geometry")


def _tidy(data: dict[str, Any]) -> dict[str, Any]:
    """Texts trimmed (blank means absent)."""
    return {k: (v.strip() or None) if isinstance(v, str) else v for k, v in data.items()}


def _check_attributes(
    session: Session, kind: str, data: dict[str, Any], stored: dict[str, Any] | None = None
) -> None:
    """Refuse attributes that do not fit the kind, and values that cannot be right."""
    if "manager_unit_code" in data:
        raise InvalidInput(
            "manager_unit_code is set by the red-property claim workflow (红色物业认领, approved"
            " by the street), not by editing the place",
            field="manager_unit_code",
        )
    for name in sorted(TYPED_ATTRIBUTES & data.keys()):
        value = data[name]
        if value is None or value is False or name in KIND_ATTRIBUTES[kind]:
            continue
        takers = sorted(k for k, names in KIND_ATTRIBUTES.items() if name in names)
        raise InvalidInput(
            f"{name} is not an attribute of a {kind}; it belongs to: {', '.join(takers)}",
            field=name,
        )
    status = data.get("management_status")
    if status is not None and status not in SETTABLE_STATUSES:
        if status == "red_property":
            raise InvalidInput(
                "management_status 'red_property' comes from a property company's claim approved"
                " by the street (红色物业认领), not from editing the courtyard",
                field="management_status",
            )
        raise InvalidInput(
            f"unknown management_status {status!r}; expected {' or '.join(SETTABLE_STATUSES)}",
            field="management_status",
        )
    if (
        stored is not None
        and "management_status" in data
        and stored["management_status"] == "red_property"
        and data["management_status"] != "red_property"
    ):
        raise Conflict(
            f"courtyard {stored['id']} is claimed by {stored['manager_unit_code']} (红色物业):"
            " its management status changes when the claim ends",
            field="management_status",
        )
    unit = data.get("contact_unit_code")
    if unit is not None:
        unit_kind = repo.unit_kind(session, unit)
        if unit_kind is None:
            raise InvalidInput(
                f"no active unit with code {unit!r} (GET /api/units)", field="contact_unit_code"
            )
        if unit_kind not in CONTACT_UNIT_KINDS:
            raise InvalidInput(
                f"unit {unit} is a {unit_kind}; a contact unit is a"
                f" {', '.join(CONTACT_UNIT_KINDS)}",
                field="contact_unit_code",
            )
    starts = data["starts_on"] if "starts_on" in data else (stored or {}).get("starts_on")
    ends = data["ends_on"] if "ends_on" in data else (stored or {}).get("ends_on")
    if starts is not None and ends is not None and ends < starts:
        raise InvalidInput(
            f"ends_on {ends.isoformat()} is before starts_on {starts.isoformat()}",
            field="ends_on" if "ends_on" in data else "starts_on",
        )
    for flag in ("key_tax_source", "above_scale"):
        if flag in data and data[flag] is None and stored is not None:
            raise InvalidInput(f"{flag} is true or false, not null", field=flag)


def _check_placed(
    session: Session, place_id: int, actor: Actor, row: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The stored place, refused when it lies far from every grid or (for territory staff)
    outside the actor's own grids; raising rolls the whole request back."""
    row = row or repo.get_place(session, place_id, EVERYTHING)
    assert row is not None
    if row["outside_coverage"] and (row["nearest_m"] or 0) > FAR_OUTSIDE_M:
        raise InvalidCoordinates(
            f"the place lies {row['nearest_m'] / 1000:,.0f} km from every grid: check the"
            " coordinate system (crs) and the order of lon and lat",
            field="geometry",
        )
    if actor.role in TERRITORY and not repo.place_in_scope(session, place_id, place_scope(actor)):
        where = row["third_code"] or row["second_code"] or "no grid"
        raise Forbidden(
            f"the place lies in {where}, outside your grid {actor.grid_code} and the grids"
            " within it: the street office or the GIS editor places it there",
            field="geometry",
        )
    return row


def create_place(
    session: Session, data: dict[str, Any], *, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Store one place, assigned to its grids, and write it to the audit log."""
    data = _tidy(data)
    kind = data["kind"]
    _check_attributes(session, kind, data)
    wkb, raw = place_geometry(kind, data.pop("geometry"), data.pop("crs", None))
    values = {
        **data,
        "properties": {**(data.get("properties") or {}), **raw},
        "geom_wkb": wkb,
        "now": now,
        "by": actor.name,
    }
    place_id = repo.insert_place(session, values)
    if place_id is None:
        raise Conflict(f"a {kind} with code {data['code']!r} already exists", field="code")
    row = _check_placed(session, place_id, actor)
    auth_repo.audit(
        session,
        "place_created",
        actor=actor.name,
        target=f"place {place_id}",
        client=actor.client,
        detail={
            "kind": kind,
            "code": row["code"],
            "name": row["name"],
            "grid": row["responsible_code"],
        },
        at=now,
    )
    return place_feature(row)


def update_place(
    session: Session, place_id: int, data: dict[str, Any], *, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Change the attributes and/or geometry sent; a new geometry is assigned to its grids
    at once. The change (before → after) goes to the audit log."""
    stored = repo.lock_place(session, place_id, place_scope(actor))
    if stored is None:
        raise PlaceNotFound(f"no place with id {place_id}", field="id")
    kind = stored["kind"]
    data = _tidy(data)
    crs = data.pop("crs", None)
    if "geometry" in data and data["geometry"] is None:
        raise InvalidInput("geometry cannot be removed from a place", field="geometry")
    _check_attributes(session, kind, data, stored)
    changes: dict[str, Any] = {
        k: v for k, v in data.items() if k not in ("geometry", "properties") and stored[k] != v
    }
    if data.get("code") and "code" in changes:
        repo.lock_code(session, kind, data["code"])  # two edits taking one code queue up
        if repo.existing_codes(session, kind, [data["code"]]):
            raise Conflict(f"a {kind} with code {data['code']!r} already exists", field="code")
    if changes.get("management_status") == "unmanaged" and stored["manager_unit_code"]:
        # 无主管 means no company: cases there must no longer be dispatched to the old one.
        changes["manager_unit_code"] = None
    properties = data.get("properties", stored["properties"]) or {}
    if data.get("geometry") is not None:
        changes["geom_wkb"], raw = place_geometry(kind, data["geometry"], crs)
        # The raw input kept is that of the geometry now stored.
        properties = {k: v for k, v in properties.items() if k not in ("raw_crs", "raw_geometry")}
        properties.update(raw)
    if properties != stored["properties"]:
        changes["properties"] = properties
    if not changes:
        return view_place(session, place_id, scope=EVERYTHING)
    before_grids = _brief_codes(stored["grid_codes"])
    repo.update_place(session, place_id, {**changes, "updated_at": now, "updated_by": actor.name})
    row = _check_placed(session, place_id, actor)
    detail: dict[str, Any] = {
        k: [stored[k], changes[k]] for k in changes if k not in ("geom_wkb", "properties")
    }
    if "properties" in changes:
        detail["properties"] = "changed"
    if "geom_wkb" in changes:
        after = _brief_codes([row[f"{level}_code"] for level in LEVELS])
        detail["geometry"] = {"grids_before": before_grids, "grids_after": after}
    auth_repo.audit(
        session,
        "place_updated",
        actor=actor.name,
        target=f"place {place_id}",
        client=actor.client,
        detail={"kind": kind, "changed": detail},
        at=now,
    )
    return place_feature(row)


def _brief_codes(codes: list[str | None]) -> dict[str, str]:
    return {level: code for level, code in zip(LEVELS, codes, strict=True) if code}


def view_place(session: Session, place_id: int, *, scope: Scope) -> dict[str, Any]:
    """One place as a GeoJSON Feature, if `scope` sees it (else 404, as for no place)."""
    row = repo.get_place(session, place_id, scope)
    if row is None:
        raise PlaceNotFound(f"no place with id {place_id}", field="id")
    return place_feature(row)


def _filters(
    session: Session,
    scope: Scope,
    kind: str | None,
    grid: str | None,
    management_status: str | None,
) -> dict[str, Any]:
    if kind is not None and kind not in PLACE_KINDS:
        raise InvalidInput(
            f"unknown place kind {kind!r}; expected one of {', '.join(PLACE_KINDS)}", field="kind"
        )
    if management_status is not None and management_status not in MANAGEMENT_STATUSES:
        raise InvalidInput(
            f"unknown management_status {management_status!r}; expected one of"
            f" {', '.join(MANAGEMENT_STATUSES)}",
            field="management_status",
        )
    if grid and not grids_repo.list_grids(session, code=grid, scope=scope, with_case_counts=False):
        raise GridNotFound(f"no current grid with code {grid!r}", field="grid")
    return {"kind": kind, "grid_code": grid, "management_status": management_status}


def list_places(
    session: Session,
    *,
    scope: Scope,
    kind: str | None = None,
    grid: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    management_status: str | None = None,
    text: str | None = None,
    outside_coverage: bool | None = None,
    limit: int = 5000,
    offset: int = 0,
) -> dict[str, Any]:
    """The places `scope` sees as a GeoJSON FeatureCollection; `grid` means the grid and
    every grid within it."""
    filters = _filters(session, scope, kind, grid, management_status)
    rows = repo.iter_places(
        session,
        scope=scope,
        **filters,
        bbox=bbox,
        text=(text or "").strip() or None,
        outside_coverage=outside_coverage,
        limit=limit,
        offset=offset,
    )
    return {"type": "FeatureCollection", "features": [place_feature(r) for r in rows]}


def _in_beijing(value: Any) -> Any:
    return value.astimezone(BEIJING) if isinstance(value, datetime) and value.tzinfo else value


def place_properties(row: dict[str, Any]) -> dict[str, Any]:
    """A place as PlaceRead: attributes, its grid per level by code and name, how assigned."""

    def grid(level: str) -> dict[str, str] | None:
        code = row[f"{level}_code"]
        return {"code": code, "name": row[f"{level}_name"]} if code else None

    skip = {"geometry", "properties"} | {
        f"{level}_{part}" for level in (*LEVELS, "nearest") for part in ("code", "name")
    }
    props = {k: _in_beijing(v) for k, v in row.items() if k not in skip and k != "grid_codes"}
    props["attributes"] = row.get("properties") or {}
    props["grids"] = {level: grid(level) for level in LEVELS}
    props["responsible"] = (
        {
            "code": row["responsible_code"],
            "name": row["responsible_name"],
            "level": row["responsible_level"],
        }
        if row.get("responsible_code")
        else None
    )
    props["nearest"] = (
        {
            "code": row["nearest_code"],
            "name": row["nearest_name"],
            "distance_m": round(row["nearest_m"], 2),
        }
        if row.get("nearest_code") and row.get("nearest_m") is not None
        else None
    )
    for k in ("responsible_code", "responsible_name", "responsible_level", "nearest_m"):
        props.pop(k, None)
    return props


def place_feature(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": row["geometry"],
        "properties": place_properties(row),
    }


def _export_row(row: dict[str, Any]) -> dict[str, Any]:
    """One place flat, as export columns (GeoJSON properties, CSV cells)."""
    flat = {c: _in_beijing(row.get(c)) for c in EXPORT_COLUMNS}
    flat["attributes"] = row.get("properties") or {}
    if flat["nearest_m"] is not None:
        flat["nearest_m"] = round(flat["nearest_m"], 2)
    return flat


def export_places(
    session: Session,
    out: IO[str],
    fmt: str,
    *,
    by: Actor,
    now: datetime,
    kind: str | None = None,
) -> int:
    """Write every place `by` sees (one kind, or all) with its grid per level, as CSV (WKT
    geometry) or GeoJSON; the export goes to the audit log (who, when, from where, how many)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(
            f"unknown export format {fmt!r}; expected {' or '.join(EXPORT_FORMATS)}",
            field="format",
        )
    scope = place_scope(by)
    filters = _filters(session, scope, kind, None, None)
    rows = repo.iter_places(session, scope=scope, **filters)
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            flat = _export_row(row)
            flat["attributes"] = json.dumps(flat["attributes"], ensure_ascii=False)
            flat["wkt"] = shapely.to_wkt(shapely.from_geojson(json.dumps(row["geometry"])))
            writer.writerow([csv_cell(flat[c]) for c in EXPORT_COLUMNS])
            count += 1
    else:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for row in rows:
            flat = _export_row(row)
            for column in ("lon", "lat", "wkt"):
                flat.pop(column)
            feature = {"type": "Feature", "id": row["id"], "geometry": row["geometry"]}
            if count:
                out.write(",\n")
            out.write(json.dumps({**feature, "properties": flat}, ensure_ascii=False, default=str))
            count += 1
        out.write("\n]}\n")
    auth_repo.audit(
        session,
        "places_exported",
        actor=by.name,
        client=by.client,
        detail={
            "format": fmt,
            "kind": kind,
            "places": count,
            "role": by.role,
            "grid": by.grid_code,
        },
        at=now,
    )
    return count


# --- boundary changes ------------------------------------------------------------------------

MOVES_LISTED = 50  # in an import report; the count says how many in all


def reassign_places(session: Session) -> tuple[dict[str, int], list[str]]:
    """Assign every place again under the current boundaries (after a grid import wrote a
    new version): the counts, and a line for each place that moved to another grid."""
    rows = repo.reassign_all(session)
    moved = [r for r in rows if r["codes_before"] != r["codes_after"]]
    lines = []
    for r in moved[:MOVES_LISTED]:
        changes = ", ".join(
            f"{level} {before or '-'} → {after or '-'}"
            for level, before, after in zip(
                LEVELS, r["codes_before"], r["codes_after"], strict=True
            )
            if before != after
        )
        label = r["name"] or r["code"] or "unnamed"
        lines.append(f"place {r['id']} ({r['kind']} {label}) moved: {changes}")
    if len(moved) > MOVES_LISTED:
        lines.append(f"... and {len(moved) - MOVES_LISTED} more places moved")
    return {"places re-assigned": len(rows), "places moved to another grid": len(moved)}, lines


# --- an OpenStreetMap extract ----------------------------------------------------------------

KIND_PLURALS = {
    "building": "buildings",
    "courtyard": "courtyards",
    "merchant": "merchants",
    "enterprise": "enterprises",
    "site": "sites",
    "resident_unit": "resident units",
}


def _near_the_grids(
    session: Session, rows: list[dict[str, Any]], report: ImportReport
) -> list[dict[str, Any]]:
    """The rows to store: a place farther than FAR_OUTSIDE_M from every grid is refused, as
    the API refuses it; it is in another city, or in another coordinate system."""
    distances = repo.nearest_grid_m(session, [r["geom_wkb"] for r in rows])
    kept = []
    for position, (row, metres) in enumerate(zip(rows, distances, strict=True)):
        if metres is not None and metres > FAR_OUTSIDE_M:
            report.reject(
                int(row.get("index", position)),
                f"{metres / 1000:,.0f} km from every grid: check the coordinate system (crs)"
                " and the order of lon and lat, or import the grids of that area first",
                field="geometry",
                code=row.get("code"),
            )
        else:
            kept.append(row)
    report.rejected.sort(key=lambda r: r.index)
    return kept


def import_osm(
    session: Session,
    directory: Path,
    *,
    boundary_m: float = 5.0,
    progress: Progress = lambda _: None,
) -> ImportReport:
    """Upsert the places of an OSM extract (places/osm.py says which features are places of
    which kind) and assign each to its grids, in the caller's transaction."""
    progress(f"Reading the OpenStreetMap extract in {directory}")
    extract = osm.read_extract(directory)
    report = ImportReport(kind="places:osm", source=str(directory), crs="wgs84", read=extract.read)
    report.rejected.extend(extract.rejected)
    report.warnings.extend(extract.warnings)
    grids_repo.ensure_bands(session, boundary_m)
    for kind, found in extract.rows.items():
        rows = _near_the_grids(session, found, report)
        updated = len(repo.existing_codes(session, kind, [r["code"] for r in rows]))
        progress(f"storing {len(rows)} {KIND_PLURALS[kind]} and assigning them to grids")
        repo.upsert_places(session, kind, rows)
        stored = repo.assign_places(session, kind)
        report.accepted += len(rows)
        report.summary[KIND_PLURALS[kind]] = (
            f"{len(rows)} ({len(rows) - updated} new, {updated} updated);"
            f" {stored['outside_coverage']} of all {stored['places']} outside every grid,"
            f" {stored['on_boundary']} on a boundary"
        )
    report.summary["not places (skipped)"] = sum(extract.not_places.values())
    for what, n in extract.not_places.most_common():
        report.summary[f"  {what}"] = n
    return report
