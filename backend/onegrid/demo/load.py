"""Load the generated demo street through the same import services the GIS staff use, then
run its year of cases through the workflow (lifecycle.py) and write the histories in bulk."""

from __future__ import annotations

import csv
import json
import os
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from onegrid.auth import repository as auth_repo
from onegrid.auth import service as auth_service
from onegrid.auth.actor import ROLES
from onegrid.cases import moves
from onegrid.cases import repository as cases_repo
from onegrid.cases import service as cases_service
from onegrid.cases.deadlines import TIME_ZONE, WorkCalendar
from onegrid.demo import lifecycle
from onegrid.demo.registry import load_registry
from onegrid.errors import OneGridError
from onegrid.grids import service as grids_service
from onegrid.places import service as places_service
from onegrid.settings import PROJECT_ROOT, Settings, get_settings
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


# The demo's sign-in accounts with their passwords, readable by the owner only (var/ is not
# in git). `onegrid demo` writes it; library callers (tests) pass a file of their own, or none.
ACCOUNTS_FILE = PROJECT_ROOT / "var" / "demo-accounts.txt"

# Where the demo's accounts work: the third-level grid with the most cases and its community,
# and the unit of a kind that most cases were dispatched to.
BUSIEST_GRID = sa.text(
    """
    SELECT g3.code, g3.name, g2.code AS community_code, g2.name AS community_name
    FROM grids g3
    JOIN grids g2 ON g2.id = g3.parent_id AND g2.level = 'second' AND g2.valid_to IS NULL
    WHERE g3.level = 'third' AND g3.valid_to IS NULL
    ORDER BY (SELECT count(*) FROM cases c WHERE c.third_grid_id = g3.id) DESC, g3.code
    LIMIT 1
    """
)
BUSIEST_UNIT = sa.text(
    """
    SELECT u.code, u.name FROM units u
    WHERE u.kind = :kind AND u.active
    ORDER BY (SELECT count(*) FROM cases c WHERE c.unit_code = u.code) DESC, u.code
    LIMIT 1
    """
)


def reset_all(session: Session) -> None:
    # Claims, visits and their problems go with the places and cases (CASCADE).
    session.execute(
        sa.text(
            "TRUNCATE cases, places, grids, grid_staff, unit_grids, responsibility_items"
            " RESTART IDENTITY CASCADE"
        )
    )


def load_demo_street(
    factory: sessionmaker[Session],
    out_dir: Path,
    *,
    reset: bool = False,
    progress: Callable[[str], None] = print,
    accounts_file: Path | None = None,
    by: str = "demo",
) -> dict[str, int]:
    """Generate the demo files and import them in one transaction; skip if grids exist.

    Loads the unit and category seed, adds the demo's property companies and the courtyards
    they manage, imports grids, places and cases, then simulates every case's workflow up to
    the demo's reference now (the end of its year) and writes events and case rows in bulk;
    then the registry around the places (claims, visits, duties, grid staff: demo/registry.py).
    Last, one account per role with a fresh random password, shown once through `progress`
    and written to `accounts_file` when given (`by` is who loads, for the audit log).
    """
    from onegrid.demo.generate import generate_demo_street

    started = time.perf_counter()
    boundary_m = get_settings().on_boundary_m
    with factory() as session, session.begin():
        if reset:
            reset_all(session)
        elif session.scalar(sa.text("SELECT count(*) FROM grids")):
            progress("demo street already loaded (use --reset to reload)")
            if accounts_file is not None:
                progress(
                    f"its accounts and passwords are in {accounts_file}"
                    if accounts_file.exists()
                    else f"no {accounts_file}: `onegrid demo --reset` reloads the street with"
                    " fresh accounts, or make one with `onegrid users create`"
                )
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
            "adding red-property claims, enterprise visits, the responsibility list and grid staff"
        )
        counts.update(
            load_registry(session, out_dir, seed=manifest["seed"], year=manifest["year"], by=by)
        )
        # The wall clock, not the demo's reference now: tokens issued from now on must count.
        accounts = create_demo_accounts(session, by=by, now=datetime.now(TIME_ZONE))
        counts["accounts"] = len(accounts)
    publish_demo_accounts(accounts, accounts_file, progress)
    progress(
        "demo street loaded in "
        f"{time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    return counts


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    scope: str  # in words, for the table
    password: str


def create_demo_accounts(session: Session, *, by: str, now: datetime) -> list[DemoAccount]:
    """One account per role, scoped to the busiest parts of the loaded street, each with a
    fresh random password. Accounts left from an earlier load get their scope back, are
    enabled again, and get a new password (their old tokens end)."""
    grid = session.execute(BUSIEST_GRID).mappings().first()
    department = session.execute(BUSIEST_UNIT, {"kind": "department"}).mappings().first()
    company = session.execute(BUSIEST_UNIT, {"kind": "property_company"}).mappings().first()
    if grid is None or department is None or company is None:
        raise OneGridError(
            "the demo accounts need a community with a third-level grid, a department and a"
            " property company"
        )
    community = f"社区 {grid['community_name']} {grid['community_code']}"
    third = f"网格 {grid['name']} {grid['code']}"
    plan = [
        ("demo-admin", "street_admin", None, None, "全街道"),
        ("demo-dispatcher", "street_dispatcher", None, None, "全街道"),
        ("demo-community", "community_staff", None, grid["community_code"], community),
        ("demo-leader", "grid_leader", None, grid["code"], third),
        ("demo-worker", "grid_worker", None, grid["code"], third),
        (
            "demo-department",
            "department_handler",
            department["code"],
            None,
            f"单位 {department['name']} {department['code']}",
        ),
        (
            "demo-property",
            "property_staff",
            company["code"],
            None,
            f"单位 {company['name']} {company['code']}",
        ),
        ("demo-gis", "gis_editor", None, None, "网格边界"),
        ("demo-auditor", "auditor", None, None, "全街道(只读)"),
        ("demo-resident", "resident", None, None, "本人的上报"),
    ]
    accounts = []
    for username, role, unit_code, grid_code, scope in plan:
        password = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
        values = {
            "role": role,
            "unit_code": unit_code,
            "grid_code": grid_code,
            "display_name": f"演示{ROLES[role]}",
        }
        if auth_repo.get_user(session, username) is None:
            auth_service.create_user(
                session, username=username, password=password, **values, by=by, now=now
            )
        else:
            auth_service.change_user(session, username, {**values, "active": True}, by=by, now=now)
            auth_service.set_password(session, username, password, by=by, now=now)
        accounts.append(DemoAccount(username, role, scope, password))
    return accounts


def accounts_table(accounts: Sequence[DemoAccount]) -> str:
    """The accounts as a plain-text table, aligned for a terminal (a Chinese character takes
    two columns)."""
    rows = [("用户名", "角色", "范围", "密码")]
    rows += [(a.username, ROLES[a.role], a.scope, a.password) for a in accounts]
    widths = [max(_columns(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(
            cell + " " * (width - _columns(cell)) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )


def publish_demo_accounts(
    accounts: Sequence[DemoAccount],
    accounts_file: Path | None,
    progress: Callable[[str], None] = print,
) -> None:
    """Show the accounts once and write them to `accounts_file`, readable by its owner only."""
    table = accounts_table(accounts)
    where = f", also in {accounts_file}" if accounts_file else ""
    progress(f"demo accounts (the passwords are shown this once{where}):\n{table}")
    if accounts_file is None:
        return
    try:
        accounts_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(accounts_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode on open: narrow it first
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(
                "OneGrid demo accounts. Sign in on the map page; `onegrid demo --reset` makes new"
                " passwords.\n\n" + table + "\n"
            )
    except OSError as exc:
        progress(f"could not write {accounts_file} ({exc.strerror}): keep the table above")


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# The party branches (物业党支部) of the demo's property companies: every red-property
# company has one, and two of the others.
PARTY_BRANCHES = {
    "P01": "润泽物业党支部",
    "P03": "金桥物业党支部",
    "P05": "丰产路街道红色物业服务中心党支部",
    "P06": "丰盛红色物业党支部",
}


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
                "party_branch": PARTY_BRANCHES.get(code),
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
