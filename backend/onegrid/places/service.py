"""Place use cases: import a kind of place from a file and assign each to its grids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from onegrid.errors import InvalidInput
from onegrid.grids import repository as grids_repo
from onegrid.ingest import readers
from onegrid.ingest.fields import read_with_default_name
from onegrid.ingest.report import ImportReport
from onegrid.places import repository as repo
from onegrid.places.models import MANAGEMENT_STATUSES, PLACE_KINDS

Progress = Callable[[str], None]


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
        rows.append(
            {
                "code": _text_or_none(rec.get("code")),
                "name": _text_or_none(rec.get("name")),
                "management_status": status,
                "properties": props,
                "geom_wkb": rec["geom_wkb"],
            }
        )
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
