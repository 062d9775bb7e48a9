"""Grid use cases: import a level from a file (dry run or commit), read grids, look up a point."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope
from onegrid.cases.deadlines import TIME_ZONE
from onegrid.db.base import LEVELS, PARENT_LEVEL
from onegrid.errors import GridNotFound, InvalidInput
from onegrid.grids import repository as repo
from onegrid.ingest import readers
from onegrid.ingest.fields import read_with_default_name
from onegrid.ingest.report import ImportReport
from onegrid.places import service as places_service
from onegrid.units import repository as units_repo

Progress = Callable[[str], None]


def _int_or_none(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _staging_rows(frame) -> list[dict[str, Any]]:
    rows = []
    for rec in frame.to_dict("records"):
        props = dict(rec.get("properties") or {})
        rows.append(
            {
                "idx": int(rec["index"]),
                "code": str(rec["code"]).strip(),
                "name": str(rec.get("name") or rec["code"]).strip(),
                "parent_code": rec.get("parent_code"),
                "households": _int_or_none(props.get("households")),
                "leader": props.get("leader"),
                "unit_name": props.get("unit_name"),
                "properties": props,
                "geom_wkb": rec["geom_wkb"],
            }
        )
    return rows


def import_grids(
    session: Session,
    path: Path,
    *,
    level: str,
    code_field: str = "code",
    name_field: str | None = None,
    parent_field: str | None = None,
    crs: str | None = None,
    repair: bool = False,
    overlap_tolerance_m2: float = 1.0,
    layer: str | None = None,
    progress: Progress = lambda _: None,
) -> ImportReport:
    """Stage, check and write one level of grids in the caller's transaction.

    The caller commits (``--commit``) or rolls back (dry run); the checks are the same. A grid
    whose code is already current at this level becomes that grid's next boundary version.
    """
    if level not in LEVELS:
        raise InvalidInput(
            f"unknown grid level {level!r}; expected one of {', '.join(LEVELS)}", field="level"
        )
    if not math.isfinite(overlap_tolerance_m2) or overlap_tolerance_m2 < 0:
        raise InvalidInput(
            f"the tolerance must be a number of square metres >= 0, not {overlap_tolerance_m2}",
            field="tolerance_m2",
        )
    progress(f"Reading {path}")
    read = read_with_default_name(
        readers.read_polygons,
        path,
        name_field,
        crs=crs,
        code_field=code_field,
        parent_field=parent_field,
        repair=repair,
        layer=layer,
    )
    report = ImportReport(kind=f"grids:{level}", source=str(path), crs=read.crs, read=read.total)
    report.rejected.extend(read.rejected)
    report.warnings.extend(f"feature {w.index}: {w.text}" for w in read.warnings)
    codes = {int(i): c for i, c in zip(read.rows["index"], read.rows["code"], strict=True)}

    progress(f"Checking {len(read.rows)} grids against the hierarchy")
    repo.lock_grid_changes(session)
    repo.stage_grids(session, _staging_rows(read.rows))
    rejected: set[int] = set()

    def reject(idx: int, reason: str, field: str | None = None) -> None:
        if idx not in rejected:
            rejected.add(idx)
            report.reject(idx, reason, field=field, code=codes.get(idx))

    for idx, reason, field in _hierarchy_problems(
        session, level, parent_field, overlap_tolerance_m2, report.warnings
    ):
        reject(idx, reason, field)

    repo.drop_staged(session, sorted(rejected))
    unchanged = repo.drop_unchanged(session)
    staged = repo.staged_summary(session)
    report.accepted = staged["total"] + unchanged
    report.summary = {
        "new grids": staged["new"],
        "new boundary versions": staged["replacing"],
        "unchanged (no new version)": unchanged,
    }
    report.rejected.sort(key=lambda r: r.index)
    return report


Problem = tuple[int, str, str | None]  # staged feature index, reason, field


def _hierarchy_problems(
    session: Session,
    level: str,
    parent_field: str | None,
    tolerance_m2: float,
    warnings: list[str],
) -> Iterator[Problem]:
    """Every rule a staged level must keep, checked in PostGIS against the stored grids:
    codes unique across levels, a parent for each grid, children inside their parent,
    siblings apart, and a new boundary still holding the children of the old one."""
    for idx, code, other_level in repo.mark_replaced_versions(session, level):
        yield idx, f"code {code} is already used by a current {other_level} grid", "code"

    parent_level = PARENT_LEVEL.get(level)
    if parent_level:
        if parent_field and level != "dedicated":
            for idx, _code, parent_code in repo.resolve_parents_by_code(session, parent_level):
                reason = f"parent code {parent_code!r} is not a current {parent_level} grid"
                yield idx, reason, parent_field
        elif repo.count_current(session, parent_level) > 0:
            orphans = repo.resolve_parents_spatially(session, parent_level)
            if level != "dedicated":  # a dedicated grid may sit outside the loaded street
                for idx, _code in orphans:
                    yield idx, f"lies in no {parent_level} grid", None
        else:
            warnings.append(
                f"no {parent_level} grids are loaded: these {level} grids have no parent"
            )
        if level != "dedicated":
            for idx, _code, parent_code, m2 in repo.grids_outside_parent(session, tolerance_m2):
                yield idx, f"pokes out of its parent {parent_code} by {m2:.1f} m²", None

    for idx, _code, other, m2 in repo.sibling_overlaps(session, level, tolerance_m2):
        yield idx, f"overlaps {level} grid {other} by {m2:.1f} m²", None

    left_out: dict[int, list[str]] = {}
    for idx, child, m2 in repo.children_left_outside(session, tolerance_m2):
        left_out.setdefault(idx, []).append(f"{child} ({m2:.1f} m²)")
    for idx, children in left_out.items():
        yield idx, "the new boundary would leave its children outside: " + ", ".join(children), None


def write_grids(
    session: Session,
    level: str,
    boundary_m: float = 5.0,
    progress: Progress = lambda _: None,
    report: ImportReport | None = None,
) -> int:
    """Write what import_grids staged and rebuild the lookup structures (same transaction).

    Every place is then assigned again under the new boundaries, in the same transaction;
    the `report` (when given) says how many places moved to another grid, and which."""
    written = repo.write_staged_grids(session, level)
    progress("Rebuilding the lookup pieces and boundary bands")
    repo.refresh_lookup(session, boundary_m)
    # Communities, the street and dedicated grids' units are where cases can be dispatched.
    units_repo.sync_territory_units(session)
    # Places follow the boundaries (cases keep the version they were assigned under).
    progress("Re-assigning places to the new boundaries")
    counts, moves = places_service.reassign_places(session)
    if report is not None:
        report.summary.update(counts)
        report.warnings.extend(moves)
    return written


def grid_features(
    session: Session,
    *,
    scope: Scope,
    level: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> dict[str, Any]:
    if level is not None and level not in LEVELS:
        raise InvalidInput(
            f"unknown grid level {level!r}; expected one of {', '.join(LEVELS)}", field="level"
        )
    return feature_collection(repo.list_grids(session, scope=scope, level=level, bbox=bbox))


def grid_feature(session: Session, code: str, *, scope: Scope) -> dict[str, Any]:
    rows = repo.list_grids(session, code=code, scope=scope)
    if not rows:
        raise GridNotFound(f"no current grid with code {code!r}", field="code")
    return grid_to_feature(rows[0])


def grid_to_feature(row: dict[str, Any]) -> dict[str, Any]:
    props = {
        k: v for k, v in row.items() if k not in ("geometry", "id", "properties", "valid_from")
    }
    # In Beijing time, as every other time the API gives.
    valid_from = row.get("valid_from")
    props["valid_from"] = valid_from.astimezone(TIME_ZONE).isoformat() if valid_from else None
    props["attributes"] = row.get("properties") or {}
    return {"type": "Feature", "id": row["code"], "geometry": row["geometry"], "properties": props}


def feature_collection(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [grid_to_feature(r) for r in rows]}
