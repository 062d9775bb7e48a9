"""Case use cases: bulk import with assignment, one new report, point lookup, export."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.orm import Session

from onegrid.auth import repository as auth_repo
from onegrid.auth.actor import Actor
from onegrid.auth.scope import EVERYTHING, Scope, acting_scope, scope_of
from onegrid.cases import attachments, moves, step_clock, workflow
from onegrid.cases import repository as repo
from onegrid.cases.deadlines import TimeLimit, WorkCalendar
from onegrid.db.base import LEVELS
from onegrid.errors import (
    AttachmentNotFound,
    CaseNotFound,
    Conflict,
    GridNotFound,
    InvalidCoordinates,
    InvalidInput,
    StaleVersion,
    TransitionNotAllowed,
)
from onegrid.exports import ASSIGNMENT_EXPORT_COLUMNS, csv_cell
from onegrid.geo import crs as geo_crs
from onegrid.geo.validate import check_lonlat
from onegrid.grids import repository as grids_repo
from onegrid.ingest import readers
from onegrid.ingest.report import ImportReport
from onegrid.settings import Settings
from onegrid.units import repository as units_repo
from onegrid.units import service as units_service

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
    *ASSIGNMENT_EXPORT_COLUMNS,
    "assignment_rule",
    "category",
    "category_code",
    "description",
    "source",
    "status",
    "source_status",
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
    category_code: str | None = None
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
    if not (math.isfinite(wgs_lon) and math.isfinite(wgs_lat)):
        raise InvalidCoordinates(
            f"({lon}, {lat}) is outside the area where {spec.name} can be converted to"
            " longitude and latitude: check the coordinate system (crs)",
            field="lon",
        )
    reason = check_lonlat(wgs_lon, wgs_lat)
    if reason:
        raise InvalidCoordinates(f"{reason} after converting from {spec.name}", field="lon")
    return wgs_lon, wgs_lat, spec.name


SOURCES = {
    "grid_patrol": "网格巡查",
    "resident_wechat": "居民(微信)",
    "property_company": "物业公司",
    "hotline_12345": "12345热线",
    "camera_sensor": "视频/感知设备",
    "enterprise_service": "企业服务",
}


def create_case(
    session: Session,
    data: dict[str, Any],
    *,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
    reporter: Actor | None = None,
    idempotency_key: str | None = None,
    follow_token_digest: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Store one reported case, assigned and with its first step's clock running.

    Returns the case and whether it is a replay: a retried request with the same
    idempotency key gets the case the first request created, never a second one.
    A report made without an account is followed by the token whose digest is given.
    """
    if idempotency_key is not None:
        # The reporter is part of the request: another person's key never returns this case.
        fingerprint = _request_fingerprint(
            {**data, "reporter": reporter.name if reporter else None}
        )
        earlier = repo.lock_idempotency_key(session, idempotency_key)
        if earlier is not None:
            if earlier["request_sha256"] != fingerprint:
                raise Conflict(
                    f"Idempotency-Key {idempotency_key!r} was used for a different report",
                    field="Idempotency-Key",
                )
            replay = view_case(
                session, earlier["case_id"], calendar=calendar, now=now, scope=EVERYTHING
            )
            return _duplicates_seen_by(session, replay, reporter), True
    lon, lat, crs_name = normalise_point(data.get("lon"), data.get("lat"), data.get("crs"))
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
    source = data.get("source") or "grid_patrol"
    if source not in SOURCES:
        raise InvalidInput(
            f"unknown source {source!r}; sources are {', '.join(SOURCES)}", field="source"
        )
    data = _tidy(session, data)
    if not (data.get("description") or "").strip() and not (
        data.get("category_code") or data.get("category")
    ):
        raise InvalidInput(
            "a report needs a description or a category (category_code, GET /api/categories)",
            field="description",
        )
    category = _category(session, data.get("category_code"))
    if category and data.get("category") and data["category"] != category["name"]:
        raise InvalidInput(
            f"category {data['category']!r} contradicts category_code {category['code']}"
            f" ({category['name']}); send one of them",
            field="category",
        )
    urgent = data.get("urgent")
    if urgent is None:
        urgent = bool(category and category["urgent"])
    clock = step_clock.start(
        calendar, "file", step_limit(settings, category, "file", urgent), reported_at, urgent
    )
    values = {
        "external_id": data.get("external_id") or f"W{now:%Y%m%d}-{uuid.uuid4().hex[:10]}",
        "category": data.get("category") or (category["name"] if category else None),
        "category_code": data.get("category_code"),
        "description": data.get("description"),
        "source": source,
        "reported_at": reported_at,
        "lon": lon,
        "lat": lat,
        "raw_x": data.get("lon"),
        "raw_y": data.get("lat"),
        "raw_crs": crs_name,
        "urgent": urgent,
        "reporter": reporter.name if reporter else None,
        "reporter_user_id": reporter.user_id if reporter else None,
        "follow_token_sha256": follow_token_digest,
        **clock.as_columns(),
        "actor": reporter.name if reporter else source,
        "role": reporter.role if reporter else "reporter",
        "actor_unit": reporter.unit_code if reporter else None,
        "now": now,
        "dup_radius_m": settings.duplicate_radius_m,
        "dup_window": timedelta(hours=settings.duplicate_window_h),
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
    if idempotency_key is not None:
        repo.store_idempotency_key(session, idempotency_key, fingerprint, stored["id"])
    return _duplicates_seen_by(session, _with_clock(stored, calendar, now), reporter), False


def _duplicates_seen_by(
    session: Session, case: dict[str, Any], reporter: Actor | None
) -> dict[str, Any]:
    """The report's duplicate suggestions, only those the reporter may see."""
    offered = case.get("possible_duplicates") or []
    scope = scope_of(reporter) if reporter else Scope()
    if offered and not scope.whole_street:
        seen = repo.visible_case_ids(session, [d["id"] for d in offered], scope)
        case["possible_duplicates"] = [d for d in offered if d["id"] in seen]
    return case


def _tidy(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Trim the report's texts (blank means absent), and find the code of a category given
    only by a type's exact name, so it gets that type's department and limits."""
    data = {
        k: (v.strip() or None) if isinstance(v, str) and k != "description" else v
        for k, v in data.items()
    }
    if data.get("external_id") is None and "external_id" in data:
        data.pop("external_id")
    if data.get("category") and not data.get("category_code"):
        data["category_code"] = units_repo.category_code_named(session, data["category"])
    return data


def _request_fingerprint(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _category(session: Session, code: str | None) -> dict[str, Any] | None:
    if not code:
        return None
    category = units_repo.get_category(session, code)
    if category is None:
        raise InvalidInput(
            f"unknown category_code {code!r}: GET /api/categories lists the types",
            field="category_code",
        )
    return category


def step_limit(
    settings: Settings, category: dict[str, Any] | None, step: str, urgent: bool
) -> TimeLimit:
    """The limit of a step: the category's, else the configured default."""
    if step == "file" and urgent:
        return TimeLimit.parse(settings.urgent_file_limit)
    if step == "close":
        return TimeLimit.parse(settings.close_limit)
    if category is not None:
        return TimeLimit.parse(category[f"{step}_limit"])
    defaults = {
        "file": settings.default_file_limit,
        "handle": settings.default_handle_limit,
        "verify": settings.default_verify_limit,
    }
    return TimeLimit.parse(defaults[step])


def possible_duplicates(
    session: Session, case_id: int, settings: Settings, *, scope: Scope
) -> list[dict]:
    """Open cases of the same category near (metres) and close in time to this one."""
    get_case(session, case_id, scope=scope)
    rows = repo.possible_duplicates(
        session, case_id, settings.duplicate_radius_m, settings.duplicate_window_h, scope
    )
    return [{**in_beijing_time(r), "distance_m": round(r["distance_m"], 1)} for r in rows]


def _with_clock(row: dict[str, Any], calendar: WorkCalendar, now: datetime) -> dict[str, Any]:
    case = in_beijing_time(row)
    for duplicate in case.get("possible_duplicates") or []:  # JSON from the database
        reported = duplicate.get("reported_at")
        if reported:
            duplicate["reported_at"] = datetime.fromisoformat(reported).astimezone(BEIJING)
    case["deadline"] = step_clock.light(calendar, row, now)
    case["status_name"] = workflow.STATUS_NAMES.get(row["status"], row["status"])
    # An extension can be decided only while one is asked for, and asked only once at a time.
    pending = bool(row.get("extension_requested"))
    case["allowed_actions"] = [
        a
        for a in workflow.allowed_actions(row["status"])
        if (a in ("approve_extension", "reject_extension")) == pending
        or a not in ("approve_extension", "reject_extension", "request_extension")
    ]
    return case


def view_case(
    session: Session, case_id: int, *, calendar: WorkCalendar, now: datetime, scope: Scope
) -> dict[str, Any]:
    """One case with its deadline light and the moves open to it."""
    row = repo.get_case(session, case_id, scope)
    if row is None:
        raise CaseNotFound(f"no case with id {case_id}", field="id")
    return _with_clock(row, calendar, now)


# --- workflow: one move of a case ---------------------------------------------------------


def transition_case(
    session: Session,
    case_id: int,
    action: str,
    fields: dict[str, Any],
    *,
    actor: Actor,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """Apply one workflow action, write its event, and return the case as it now is.

    `fields` carries `version` (the case version the actor saw: a stale one is refused,
    never silently overwritten) and what the action requires (see workflow.REQUIREMENTS).
    The case must be in `scope`, by default where the actor may act; a follow token's
    holder has no account, and the case their token names is their scope.
    """
    scope = scope or acting_scope(actor)
    into = fields.get("into")
    if action == "merge" and isinstance(into, int) and into < case_id:
        # Two cases: lock in id order, so merges never deadlock.
        repo.lock_case(session, into, scope)
    case = repo.lock_case(session, case_id, scope)
    if case is None:
        raise CaseNotFound(f"no case with id {case_id}", field="id")
    if fields.get("version") != case["version"]:
        raise StaleVersion(
            f"case {case_id} is at version {case['version']} ({case['status']}), not "
            f"{fields.get('version')}: someone changed it since; reload and try again",
            field="version",
            current_version=case["version"],
            status=case["status"],
        )
    category: dict[str, Any] | None = None

    def case_category() -> dict[str, Any] | None:
        nonlocal category
        category = category or units_repo.get_category(session, case["category_code"])
        return category

    move = moves.plan_move(
        case,
        action,
        fields,
        moves.Context(
            role=actor.role,
            unit_code=actor.unit_code,
            now=now,
            calendar=calendar,
            limit_for=lambda step, urgent: step_limit(settings, case_category(), step, urgent),
            category=case_category,
            choose_unit=lambda: units_service.choose_unit(session, case_id),
            unit_exists=lambda code: units_repo.unit_exists(session, code),
            parked_at=lambda: _parked_at(session, case_id),
        ),
    )
    changes = move.changes
    if action == "merge":
        _check_merge_target(session, case, changes["merged_into"], scope)
    if not repo.update_case(session, case_id, case["version"], changes):
        raise StaleVersion(f"case {case_id} changed while this move was applied", field="version")
    event_id = repo.insert_event(
        session,
        {
            "case_id": case_id,
            "action": action,
            "from_status": case["status"],
            "to_status": changes.get("status", case["status"]),
            "actor": actor.name,
            "role": actor.role,
            "unit_code": actor.unit_code,
            "at": now,
            "note": fields.get("note") or fields.get("reason"),
            "data": moves.event_data_json(move.event_data),
            "late": move.late,
        },
    )
    attachments = [int(a) for a in fields.get("attachments") or []]
    if attachments and repo.link_attachments(session, case_id, event_id, attachments) != len(
        attachments
    ):
        raise InvalidInput(
            f"attachments {attachments} are not all files of case {case_id} that are not yet"
            " on an event",
            field="attachments",
        )
    if action == "merge":
        _record_merge_into(session, changes["merged_into"], case_id, actor, now)
    if action == "void":
        auth_repo.audit(
            session,
            "case_voided",
            actor=actor.name,
            target=f"case {case_id}",
            client=actor.client,
            detail={"reason": fields.get("reason"), "report_valid": fields.get("report_valid")},
            at=now,
        )
    # The case as it now is, even if the move took it out of the actor's scope (declined).
    return view_case(session, case_id, calendar=calendar, now=now, scope=EVERYTHING)


def _parked_at(session: Session, case_id: int) -> datetime:
    events = repo.list_events(session, case_id)
    return next(e["at"] for e in reversed(events) if e["action"] == "park")


def _check_merge_target(
    session: Session, duplicate: dict[str, Any], into: int, scope: Scope
) -> None:
    target = repo.lock_case(session, into, scope)
    if target is None:
        raise InvalidInput(f"no case with id {into} to merge into", field="into")
    if target["status"] in workflow.FINISHED:
        raise TransitionNotAllowed(
            f"case {into} is {target['status']}: merge into an open case", field="into"
        )
    if (target["category_code"], target["category"]) != (
        duplicate["category_code"],
        duplicate["category"],
    ):
        raise TransitionNotAllowed(
            f"case {into} is {target['category'] or 'uncategorised'}, this one"
            f" {duplicate['category'] or 'uncategorised'}: only the same kind of report is a"
            " duplicate",
            field="into",
        )


def _record_merge_into(
    session: Session, target_id: int, duplicate_id: int, actor: Actor, now: datetime
) -> None:
    """The case kept gets an event too, so both histories show the merge."""
    target = repo.lock_case(session, target_id, EVERYTHING)
    assert target is not None
    repo.update_case(session, target_id, target["version"], {})
    repo.insert_event(
        session,
        {
            "case_id": target_id,
            "action": "merged_in",
            "from_status": target["status"],
            "to_status": target["status"],
            "actor": actor.name,
            "role": actor.role,
            "unit_code": actor.unit_code,
            "at": now,
            "note": f"case {duplicate_id} merged into this one",
            "data": json.dumps({"duplicate": duplicate_id}),
            "late": False,
        },
    )


def deadline_watch(
    session: Session,
    *,
    calendar: WorkCalendar,
    at: datetime,
    grid: str | None = None,
    unit: str | None = None,
    overdue_only: bool = False,
    limit: int = 500,
    scope: Scope,
) -> list[dict[str, Any]]:
    """Open cases that are red (overdue) or yellow (80 % used) at `at`, soonest due first."""
    filters: dict[str, Any] = {"unit": unit, "overdue_only": overdue_only}
    if grid:
        level = _grid_level(session, grid, scope)
        filters.update(grid=grid, grid_column=grids_repo.CASE_GRID_COLUMN[level])
    return [
        _with_clock(r, calendar, at)
        for r in repo.deadline_watch(session, at, filters, limit, scope)
    ]


# --- attachments ------------------------------------------------------------------------


def open_case_for_files(session: Session, case_id: int, *, scope: Scope) -> dict[str, Any]:
    """The case, if the person sees it and it is still open: asked before an upload is read,
    and again when it is stored."""
    case = get_case(session, case_id, scope=scope)
    if case["status"] in workflow.FINISHED:
        raise TransitionNotAllowed(
            f"case {case_id} is {case['status']}: files go on open cases", field="file"
        )
    return case


def add_attachment(
    session: Session,
    case_id: int,
    *,
    content: bytes,
    filename: str | None,
    declared_type: str | None,
    uploaded_by: str | None,
    settings: Settings,
    scope: Scope,
) -> dict[str, Any]:
    """Check a photo or file by its content and store it on the case (not yet on an event)."""
    open_case_for_files(session, case_id, scope=scope)
    name = attachments.clean_filename(filename)
    if not content:
        raise InvalidInput(f"{name} is empty", field="file")
    if len(content) > settings.max_upload_bytes:  # the reader stops one byte past the limit
        raise InvalidInput(
            f"{name} is over the limit of {settings.max_upload_bytes:,} bytes", field="file"
        )
    detected = attachments.detect_type(content[:16])
    if detected is None:
        raise InvalidInput(
            f"{name} is not a file type accepted here ({', '.join(attachments.ALLOWED_TYPES)})",
            field="file",
        )
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in attachments.VAGUE_TYPES and declared != detected:
        raise InvalidInput(
            f"{name} is declared as {declared} but its content is {detected}", field="file"
        )
    digest = attachments.store(settings.upload_dir, content)
    stored = repo.insert_attachment(
        session,
        {
            "case_id": case_id,
            "filename": name,
            "content_type": detected,
            "size_bytes": len(content),
            "sha256": digest,
            "uploaded_by": uploaded_by,
        },
    )
    return in_beijing_time(stored)


def list_attachments(session: Session, case_id: int, *, scope: Scope) -> list[dict[str, Any]]:
    get_case(session, case_id, scope=scope)
    return [in_beijing_time(a) for a in repo.list_attachments(session, case_id)]


def attachment_file(
    session: Session, attachment_id: int, settings: Settings, *, scope: Scope
) -> tuple[dict[str, Any], Path]:
    """The attachment's row and the path of its stored content, if its case is in scope."""
    row = repo.get_attachment(session, attachment_id)
    if row is not None and repo.get_case(session, row["case_id"], scope) is None:
        row = None  # the same answer as for an id that does not exist
    path = attachments.path_of(settings.upload_dir, row["sha256"]) if row else None
    if row is None or path is None or not path.exists():
        raise AttachmentNotFound(f"no attachment with id {attachment_id}", field="id")
    return row, path


def case_history(session: Session, case_id: int, *, scope: Scope) -> list[dict[str, Any]]:
    get_case(session, case_id, scope=scope)
    return [in_beijing_time(e) for e in repo.list_events(session, case_id)]


def get_case(session: Session, case_id: int, *, scope: Scope) -> dict[str, Any]:
    """The case if `scope` sees it; otherwise the same 404 as for an id that does not exist."""
    row = repo.get_case(session, case_id, scope)
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
    scope: Scope,
    grid: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    status: str | None = None,
    outside_coverage: bool | None = None,
    limit: int = 5000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    if status is not None and status not in workflow.STATUSES:
        raise InvalidInput(
            f"unknown status {status!r}; statuses are {', '.join(workflow.STATUSES)}",
            field="status",
        )
    return repo.list_cases(
        session,
        scope=scope,
        grid_code=grid,
        grid_level=_grid_level(session, grid, scope) if grid else None,
        bbox=bbox,
        status=status,
        outside_coverage=outside_coverage,
        limit=limit,
        offset=offset,
    )


def _grid_level(session: Session, code: str, scope: Scope) -> str:
    """The level of a grid named as a filter; 404 for one outside the person's grids."""
    rows = grids_repo.list_grids(session, code=code, scope=scope, with_case_counts=False)
    if not rows:
        raise GridNotFound(f"no current grid with code {code!r}", field="grid")
    return rows[0]["level"]


def case_properties(row: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in in_beijing_time(row).items()
        if k not in ("lon", "lat", "properties")
    }
    # The status word of the file a case was imported from, when it was not a workflow state.
    props["source_status"] = (row.get("properties") or {}).get("source_status")
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


def export_cases(session: Session, out: IO[str], fmt: str, *, by: Actor, now: datetime) -> int:
    """Write every case `by` sees with its grid per level (one row per case), streaming;
    the export is written to the audit log (who, when, from where, how many)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(
            f"unknown export format {fmt!r}; expected {' or '.join(EXPORT_FORMATS)}",
            field="format",
        )
    count = _write_export(session, out, fmt, scope_of(by))
    auth_repo.audit(
        session,
        "cases_exported",
        actor=by.name,
        client=by.client,
        detail={"format": fmt, "cases": count, "role": by.role, "grid": by.grid_code},
        at=now,
    )
    return count


def _write_export(session: Session, out: IO[str], fmt: str, scope: Scope) -> int:
    rows: Iterator[dict[str, Any]] = repo.iter_cases(session, scope=scope)
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            props = case_properties(row)
            props["lon"], props["lat"] = row["lon"], row["lat"]
            writer.writerow([csv_cell(props.get(c)) for c in EXPORT_COLUMNS])
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
