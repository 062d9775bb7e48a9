"""Load the generated demo street through the same import services the GIS staff use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from onegrid.cases import service as cases_service
from onegrid.errors import OneGridError
from onegrid.grids import service as grids_service
from onegrid.places import service as places_service
from onegrid.settings import get_settings

GRID_FILES = [
    ("street", "street.geojson", None),
    ("second", "second.geojson", "parent_code"),
    ("third", "third.geojson", "parent_code"),
    ("micro", "micro.geojson", "parent_code"),
    ("dedicated", "dedicated.geojson", None),
]
PLACE_FILES = [
    ("building", "buildings.geojson"),
    ("courtyard", "courtyards.geojson"),
    ("merchant", "merchants.geojson"),
    ("enterprise", "enterprises.geojson"),
    ("site", "sites.geojson"),
    ("resident_unit", "resident_units.geojson"),
]


def reset_all(session: Session) -> None:
    session.execute(sa.text("TRUNCATE cases, places, grids RESTART IDENTITY CASCADE"))


def load_demo_street(
    factory: sessionmaker[Session],
    out_dir: Path,
    *,
    reset: bool = False,
    progress: Callable[[str], None] = print,
) -> dict[str, int]:
    """Generate the demo files and import them in one transaction; skip if grids exist."""
    from onegrid.demo.generate import generate_demo_street

    boundary_m = get_settings().on_boundary_m
    with factory() as session, session.begin():
        if reset:
            reset_all(session)
        elif session.scalar(sa.text("SELECT count(*) FROM grids")):
            progress("demo street already loaded (use --reset to reload)")
            return {}
        progress(f"generating the demo street in {out_dir}")
        files = generate_demo_street(out_dir)
        counts: dict[str, int] = {}
        for level, name, parent_field in GRID_FILES:
            report = grids_service.import_grids(
                session, out_dir / name, level=level, parent_field=parent_field, progress=progress
            )
            _require_clean(report)
            counts[level] = grids_service.write_grids(session, level, boundary_m)
        for kind, name in PLACE_FILES:
            report = places_service.import_places(
                session, out_dir / name, kind=kind, boundary_m=boundary_m, progress=progress
            )
            _require_clean(report)
            counts[kind] = report.accepted
        report = cases_service.import_cases(
            session,
            files.get("cases", out_dir / "cases.csv"),
            boundary_m=boundary_m,
            progress=progress,
        )
        _require_clean(report)
        counts["cases"] = cases_service.write_cases(session)
    progress("demo street loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts


def _require_clean(report) -> None:
    # The generator is ours: a rejection is a bug in it, not something to load around.
    if report.rejected:
        raise OneGridError(f"demo data rejected by {report.kind}: {report.rejected[0].describe()}")
