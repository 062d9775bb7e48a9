"""Load the generated demo street through the same import services the GIS staff use, then
run its year of cases through the workflow (lifecycle.py) and write the histories in bulk."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from onegrid.cases import moves
from onegrid.cases import repository as cases_repo
from onegrid.cases import service as cases_service
from onegrid.cases.deadlines import TIME_ZONE, WorkCalendar
from onegrid.demo import lifecycle
from onegrid.errors import OneGridError
from onegrid.grids import service as grids_service
from onegrid.places import service as places_service
from onegrid.settings import Settings, get_settings
from onegrid.units import repository as units_repo
from onegrid.units import service as units_service

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

# A courtyard a property company manages or has claimed (红色物业) is dispatched to it; the
# generator names the company's unit code on the courtyard.
SET_COURTYARD_MANAGERS = sa.text(
    """
    UPDATE places SET manager_unit_code = properties->>'property_company_code'
    WHERE kind = 'courtyard' AND management_status IN ('property_managed', 'red_property')
      AND properties->>'property_company_code' IS NOT NULL
    """
)

# What the simulation needs of every case, in one statement: the third-level grid whose staff
# patrol the place (the nearest one for a report beyond the street) and the units the dispatch
# rules consider by place (units.repository.PREMISES_CANDIDATES, as the service reads them).
SIMULATION_INPUT = sa.text(
    f"""
    SELECT c.id, c.external_id, c.reported_at, c.source, c.description, c.outside_coverage,
        coalesce(g3.code, (SELECT g.code FROM grids g
                           WHERE g.level = 'third' AND g.valid_to IS NULL
                           ORDER BY ST_Distance(g.geom, c.geom), g.code LIMIT 1)) AS third_code,
        {units_repo.PREMISES_CANDIDATES}
    FROM cases c
    LEFT JOIN grids g3 ON g3.id = c.third_grid_id
    ORDER BY c.reported_at, c.external_id
    """
)

# Earlier reports of the same kind nearby, as cases.service.possible_duplicates offers them to
# the community that screens a report (same radius and window), for every case at once, with
# the same box around each point for the geometry index.
DUPLICATE_PAIRS = sa.text(
    f"""
    SELECT b.id AS case_id, a.id AS earlier_id
    FROM cases b
    JOIN cases a ON a.category = b.category
        AND a.status NOT IN ('closed', 'evaluated', 'voided', 'merged')
        AND (a.reported_at, a.external_id) < (b.reported_at, b.external_id)
        AND a.reported_at >= b.reported_at - :window
        AND a.geom && {cases_repo.NEAR_BOX.format(point="b.geom", radius=":radius_m")}
        AND ST_DWithin(a.geom::geography, b.geom::geography, :radius_m)
    ORDER BY b.id, ST_Distance(a.geom::geography, b.geom::geography), a.reported_at DESC, a.id
    """
)

EVENT_COLUMNS = (
    "case_id",
    "seq",
    "action",
    "from_status",
    "to_status",
    "actor",
    "role",
    "unit_code",
    "at",
    "note",
    "data",
    "late",
)
WORKFLOW_TABLE = "demo_case_workflow"
CREATE_WORKFLOW_TABLE = f"""
    CREATE TEMP TABLE {WORKFLOW_TABLE} (
        id bigint PRIMARY KEY, category_code text, status text, version integer,
        urgent boolean, reporter text, unit_code text, dispatch_rule text, step text,
        step_basis text, step_started_at timestamptz, step_length_s double precision,
        warn_at timestamptz, due_at timestamptz, parked_from text,
        parked_remaining_s double precision, extension_requested text,
        filed_at timestamptz, dispatched_at timestamptz, reported_back_at timestamptz,
        closed_at timestamptz, voided_valid boolean, late_steps integer, rework_count integer,
        extension_count integer, escalated boolean, satisfaction smallint, merged_into bigint
    )
"""
CASE_COLUMNS = ("category_code", *lifecycle.WORKFLOW_COLUMNS)
UPDATE_CASES = f"""
    UPDATE cases c SET ({", ".join(CASE_COLUMNS)}) = ({", ".join("w." + c for c in CASE_COLUMNS)})
    FROM {WORKFLOW_TABLE} w WHERE c.id = w.id
"""


def reset_all(session: Session) -> None:
    session.execute(sa.text("TRUNCATE cases, places, grids RESTART IDENTITY CASCADE"))


def load_demo_street(
    factory: sessionmaker[Session],
    out_dir: Path,
    *,
    reset: bool = False,
    progress: Callable[[str], None] = print,
) -> dict[str, int]:
    """Generate the demo files and import them in one transaction; skip if grids exist.

    Loads the unit and category seed, adds the demo's property companies and the courtyards
    they manage, imports grids, places and cases, then simulates every case's workflow up to
    the demo's reference now (the end of its year) and writes events and case rows in bulk.
    """
    from onegrid.demo.generate import generate_demo_street

    started = time.perf_counter()
    boundary_m = get_settings().on_boundary_m
    with factory() as session, session.begin():
        if reset:
            reset_all(session)
        elif session.scalar(sa.text("SELECT count(*) FROM grids")):
            progress("demo street already loaded (use --reset to reload)")
            return {}
        units_service.load_seed(session)
        progress(f"generating the demo street in {out_dir}")
        files = generate_demo_street(out_dir)
        manifest = json.loads(files["manifest"].read_text(encoding="utf-8"))
        counts: dict[str, int] = {}
        for level, name, parent_field in GRID_FILES:
            report = grids_service.import_grids(
                session, out_dir / name, level=level, parent_field=parent_field, progress=progress
            )
            _require_clean(report)
            counts[level] = grids_service.write_grids(session, level, boundary_m)
        counts["property_company"] = add_property_companies(session)
        for kind, name in PLACE_FILES:
            report = places_service.import_places(
                session, out_dir / name, kind=kind, boundary_m=boundary_m, progress=progress
            )
            _require_clean(report)
            counts[kind] = report.accepted
        session.execute(SET_COURTYARD_MANAGERS)
        report = cases_service.import_cases(
            session, files["cases"], boundary_m=boundary_m, progress=progress
        )
        _require_clean(report)
        counts["cases"] = cases_service.write_cases(session)
        counts["case_events"] = run_case_workflow(
            session,
            files["cases"],
            seed=manifest["seed"],
            year=manifest["year"],
            now=datetime.fromisoformat(manifest["reference_now"]),
            progress=progress,
        )
    progress(
        "demo street loaded in "
        f"{time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    return counts


def add_property_companies(session: Session) -> int:
    """The demo's property and red-property companies as units cases can go to."""
    from onegrid.demo.generate import PROPERTY_COMPANIES, RED_PROPERTY_COMPANIES

    return units_repo.upsert_units(
        session,
        (
            {
                "code": code,
                "name": name,
                "kind": "property_company",
                "grid_code": None,
                "phone": phone,
            }
            for code, name, phone in PROPERTY_COMPANIES + RED_PROPERTY_COMPANIES
        ),
    )


def run_case_workflow(
    session: Session,
    cases_file: Path,
    *,
    seed: int,
    year: int,
    now: datetime,
    settings: Settings | None = None,
    progress: Callable[[str], None] = print,
) -> int:
    """Simulate every stored case's workflow up to `now`; write events and rows. Returns the
    number of events written."""
    settings = settings or get_settings()
    calendar = WorkCalendar.load(settings.work_calendar_file, settings.work_hours)
    codes = _category_codes(cases_file)
    categories = {c["code"]: c for c in units_repo.list_categories(session)}
    unknown = sorted({code for code in codes.values() if code and code not in categories})
    if unknown:
        raise OneGridError(f"demo case types missing from the category seed: {unknown}")
    unit_kinds = {u["code"]: u["kind"] for u in units_repo.list_units(session)}
    rows = session.execute(SIMULATION_INPUT).mappings().all()
    duplicates = _duplicates(session, settings, codes, {r["id"]: r["external_id"] for r in rows})
    progress(f"simulating the workflow of {len(rows):,} cases up to {now.isoformat()}")
    simulation = lifecycle.Simulation(
        calendar=calendar,
        settings=settings,
        now=now,
        rng=np.random.default_rng([seed, year, 2]),
        unit_kinds=unit_kinds,
        street_unit=next((r["street"] for r in rows if r["street"]), None),
    )
    for r in rows:
        code = codes.get(r["external_id"])
        simulation.simulate(
            lifecycle.DemoCase(
                id=r["id"],
                external_id=r["external_id"],
                reported_at=r["reported_at"].astimezone(TIME_ZONE),
                source=r["source"],
                description=r["description"],
                category=categories[code] if code else None,
                third_code=r["third_code"],
                outside=r["outside_coverage"],
                premises={
                    k: r[k] for k in ("dedicated_unit", "courtyard_company", "community", "street")
                },
                duplicates_of=tuple(duplicates.get(r["id"], ())),
            )
        )
    runs = simulation.runs
    events = _copy_rows(
        session,
        f"COPY case_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN",
        (
            (
                case_id,
                seq,
                e.action,
                e.from_status,
                e.to_status,
                e.actor,
                e.role,
                e.unit_code,
                e.at,
                e.note,
                moves.event_data_json(e.data),
                e.late,
            )
            for case_id, run in runs.items()
            for seq, e in enumerate(run.events, start=1)
        ),
    )
    session.execute(sa.text(f"DROP TABLE IF EXISTS {WORKFLOW_TABLE}"))
    session.execute(sa.text(CREATE_WORKFLOW_TABLE))
    _copy_rows(
        session,
        f"COPY {WORKFLOW_TABLE} (id, {', '.join(CASE_COLUMNS)}) FROM STDIN",
        (
            (case_id, codes.get(run.case.external_id) or None)
            + tuple(run.columns()[c] for c in lifecycle.WORKFLOW_COLUMNS)
            for case_id, run in runs.items()
        ),
    )
    session.execute(sa.text(UPDATE_CASES))
    session.execute(sa.text(f"DROP TABLE {WORKFLOW_TABLE}"))
    progress(f"wrote {events:,} case events")
    return events


def _category_codes(cases_file: Path) -> dict[str, str | None]:
    # The case import keeps the type's name, not its code: the generator's file has both.
    with cases_file.open(encoding="utf-8", newline="") as fh:
        return {row["external_id"]: row["category_code"] or None for row in csv.DictReader(fh)}


def _duplicates(
    session: Session, settings: Settings, codes: dict[str, str | None], ids: dict[int, str]
) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    pairs = session.execute(
        DUPLICATE_PAIRS,
        {
            "radius_m": settings.duplicate_radius_m,
            "window": timedelta(hours=settings.duplicate_window_h),
        },
    )
    for case_id, earlier_id in pairs:
        code = codes.get(ids[case_id])
        if code and code == codes.get(ids[earlier_id]):  # 其他 reports are no duplicates
            found.setdefault(case_id, []).append(earlier_id)
    return found


def _copy_rows(session: Session, statement: str, rows: Iterable[Sequence[Any]]) -> int:
    """Stream rows into a COPY ... FROM STDIN: one round trip for thousands of rows."""
    raw = session.connection().connection.driver_connection
    assert raw is not None, "COPY needs a live psycopg connection"
    count = 0
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _require_clean(report) -> None:
    # The generator is ours: a rejection is a bug in it, not something to load around.
    if report.rejected:
        raise OneGridError(f"demo data rejected by {report.kind}: {report.rejected[0].describe()}")
