"""The `onegrid` command: database, imports, exports, demo data and the server."""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import sqlalchemy as sa
import typer

from onegrid.auth.actor import ROLES, Actor
from onegrid.auth.scope import EVERYTHING
from onegrid.db import engine as db_engine
from onegrid.db.embedded import port_is_free
from onegrid.settings import get_settings

app = typer.Typer(
    help="OneGrid (一网统管): grid management for a street office.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The PostGIS database: embedded cluster or ONEGRID_DATABASE_URL.")
app.add_typer(db_app, name="db")


def _err(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)


@db_app.command("up")
def db_up() -> None:
    """Start (or create) the database, enable PostGIS and apply migrations."""
    settings = get_settings()
    url = db_engine.resolve_database_url(settings)
    db_engine.ensure_database(url)
    typer.echo(f"Database ready: {url}")


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded cluster (an external database is left alone)."""
    settings = get_settings()
    if settings.database_url:
        typer.echo("ONEGRID_DATABASE_URL is set: nothing to stop.")
        return
    stopped = db_engine.embedded_cluster(settings).down()
    typer.echo("Embedded cluster stopped." if stopped else "Embedded cluster was not running.")


@db_app.command("status")
def db_status() -> None:
    """Say which database is used and whether it is running."""
    settings = get_settings()
    if settings.database_url:
        typer.echo(f"external: {db_engine.resolve_database_url(settings, start=False)}")
        return
    cluster = db_engine.embedded_cluster(settings)
    pid = cluster.running_pid()
    state = f"running (pid {pid})" if pid else "stopped"
    typer.echo(f"embedded: {cluster.base_dir} port {cluster.port}: {state}")


@db_app.command("url")
def db_url(
    libpq: bool = typer.Option(False, "--libpq", help="plain postgresql:// form, for psql"),
) -> None:
    """Print the URL of the database (starting the embedded cluster if needed).

    SQLAlchemy's form by default; `psql "$(onegrid db url --libpq)"` opens a shell.
    """
    url = db_engine.resolve_database_url(get_settings(), log=lambda m: _err(m))
    typer.echo(url.replace("postgresql+psycopg://", "postgresql://", 1) if libpq else url)


# --- imports and exports ----------------------------------------------------------------------

import_app = typer.Typer(
    help="Import grids, places or cases from GeoJSON, GeoPackage, zipped Shapefile or CSV."
)
export_app = typer.Typer(help="Export data.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


def _session_factory():
    from onegrid.db.engine import make_engine, session_factory

    settings = get_settings()
    url = db_engine.resolve_database_url(settings, log=_err)
    db_engine.ensure_database(url, log=_err)
    return session_factory(make_engine(url))


# What a broken or unreadable input file raises from the readers' libraries.
READ_ERRORS = (OSError, UnicodeError, ValueError, zipfile.BadZipFile)


def _run_import(
    work,
    commit: bool,
    report_file: Path | None,
    skip_rejected: bool,
    audit: tuple[str, str] | None = None,
) -> None:
    """Run an import in one transaction and commit it only when asked and nothing is amiss.

    `work(session)` stages and checks, and writes too when --commit is given. The transaction
    is rolled back for a dry run, and for a commit with rejected rows unless --skip-rejected:
    either everything in the file is written, or nothing. Exit code 1 when rows were rejected
    and nothing was written. `audit` (action, source) names the audit entry a committed
    import writes, in its own transaction (rolled back, it leaves no entry either).
    """
    from onegrid.auth import repository as auth_repo
    from onegrid.errors import OneGridError

    if report_file is not None:
        _check_writable(report_file)
    factory = _session_factory()
    try:
        with factory() as session, session.begin():
            report = work(session)
            report.commit_requested = commit
            if commit and (not report.rejected or skip_rejected):
                report.committed = True
                if audit is not None:
                    action, source = audit
                    auth_repo.audit(
                        session,
                        action,
                        actor=_cli_actor(),
                        target=source,
                        client=_cli_client(),
                        detail={
                            "kind": report.kind,
                            "read": report.read,
                            "accepted": report.accepted,
                            "rejected": len(report.rejected),
                            **report.summary,
                        },
                    )
            else:
                session.rollback()
    except OneGridError as exc:
        _err(f"Import failed, nothing written: {exc.message}")
        raise typer.Exit(2) from exc
    except READ_ERRORS as exc:
        _err(f"Import failed, nothing written: cannot read the file ({type(exc).__name__}: {exc})")
        raise typer.Exit(2) from exc
    except (sa.exc.DBAPIError, psycopg.Error) as exc:  # e.g. a NUL, which text cannot hold
        cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        reason = str(cause).splitlines()[0] if str(cause) else type(exc).__name__
        _err(f"Import failed, nothing written: the database refused a value: {reason}")
        raise typer.Exit(2) from exc
    for line in report.lines():
        typer.echo(line)
    if report_file is not None:
        report_file.write_text(
            json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str)
        )
        typer.echo(f"  full report: {report_file}")
    if report.rejected and not report.committed:
        if commit:
            _err(
                f"{len(report.rejected)} rejected: nothing written. Fix them, or add"
                " --skip-rejected to write the rest."
            )
        raise typer.Exit(1)


def _check_writable(path: Path) -> None:
    """Fail before importing, not after committing, when the report cannot be written."""
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        _err(f"cannot write the report to {path}: {exc.strerror}")
        raise typer.Exit(2) from exc


def _cli_actor() -> str:
    """Who runs the command, for the audit log: cli:<OS user name>."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no name in the environment or the user database (containers)
        return f"cli:uid-{os.getuid()}"


def _cli_client() -> str:
    """Where the command runs, for the audit log's "from where"."""
    return f"host:{socket.gethostname()}"


def _progress(message: str) -> None:
    typer.secho(f"  … {message}", err=True, fg=typer.colors.BLUE)


CommitOpt = typer.Option(False, "--commit", help="Write. Without it nothing changes (dry run).")
SkipOpt = typer.Option(
    False,
    "--skip-rejected",
    help="With --commit, write the accepted rows even if some are rejected.",
)
LayerOpt = typer.Option(None, "--layer", help="layer of a GeoPackage or zip with several")
CrsOpt = typer.Option(None, "--crs", help="wgs84 (default), cgcs2000, gcj02, bd09 or EPSG:NNNN")
ReportOpt = typer.Option(None, "--report", help="Write the full JSON report (all rejections) here.")


@import_app.command("grids")
def import_grids_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    level: str = typer.Option(..., "--level", help="street, second, third, micro or dedicated"),
    code_field: str = typer.Option("code", "--code-field"),
    name_field: str | None = typer.Option(None, "--name-field", help="default: name, if present"),
    parent_field: str | None = typer.Option(
        None, "--parent-field", help="field holding the parent's code"
    ),
    crs: str | None = CrsOpt,
    repair: bool = typer.Option(
        False, "--repair", help="close rings and make invalid polygons valid (never buffer(0))"
    ),
    tolerance_m2: float = typer.Option(
        1.0, "--tolerance-m2", min=0, help="overlaps/poke-outs smaller than this are ignored"
    ),
    layer: str | None = LayerOpt,
    commit: bool = CommitOpt,
    skip_rejected: bool = SkipOpt,
    report_file: Path | None = ReportOpt,
) -> None:
    """Import one level of grids; a code already current at that level gets a new version."""
    from onegrid.auth import repository as auth_repo
    from onegrid.grids import service

    def work(session):
        report = service.import_grids(
            session,
            file,
            level=level,
            code_field=code_field,
            name_field=name_field,
            parent_field=parent_field,
            crs=crs,
            repair=repair,
            overlap_tolerance_m2=tolerance_m2,
            layer=layer,
            progress=_progress,
        )
        if commit:
            written = service.write_grids(
                session, level, get_settings().on_boundary_m, progress=_progress, report=report
            )
            # Boundaries decide who sees what: record who changed them. In the import's own
            # transaction, so an import that is rolled back leaves no entry either.
            auth_repo.audit(
                session,
                "grids_imported",
                actor=_cli_actor(),
                target=level,
                client=_cli_client(),
                detail={
                    "file": file.name,
                    "read": report.read,
                    "accepted": report.accepted,
                    "rejected": len(report.rejected),
                    "written": written,
                    **report.summary,
                },
            )
        return report

    _run_import(work, commit, report_file, skip_rejected)


@import_app.command("places")
def import_places_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    kind: str = typer.Option(
        ..., "--kind", help="building, courtyard, merchant, enterprise, site, resident_unit"
    ),
    code_field: str | None = typer.Option("code", "--code-field"),
    name_field: str | None = typer.Option(None, "--name-field", help="default: name, if present"),
    crs: str | None = CrsOpt,
    repair: bool = typer.Option(False, "--repair"),
    layer: str | None = LayerOpt,
    commit: bool = CommitOpt,
    skip_rejected: bool = SkipOpt,
    report_file: Path | None = ReportOpt,
) -> None:
    """Import places of one kind and assign each to its grids."""
    from onegrid.places import service

    settings = get_settings()
    _run_import(
        lambda session: service.import_places(
            session,
            file,
            kind=kind,
            code_field=code_field,
            name_field=name_field,
            crs=crs,
            repair=repair,
            boundary_m=settings.on_boundary_m,
            layer=layer,
            progress=_progress,
        ),
        commit,
        report_file,
        skip_rejected,
        audit=("places_imported", file.name),
    )


# --- places from an OpenStreetMap extract (issue 5) --------------------------------------------


@import_app.command("osm")
def import_osm_cmd(
    directory: Path = typer.Argument(..., exists=True, file_okay=False),
    commit: bool = CommitOpt,
    skip_rejected: bool = SkipOpt,
    report_file: Path | None = ReportOpt,
) -> None:
    """Import an OpenStreetMap extract (buildings.geojson, pois.geojson, landuse.geojson) as
    buildings, merchants, enterprises, resident units and courtyards (see places/osm.py)."""
    from onegrid.places import service

    settings = get_settings()
    _run_import(
        lambda session: service.import_osm(
            session, directory, boundary_m=settings.on_boundary_m, progress=_progress
        ),
        commit,
        report_file,
        skip_rejected,
        audit=("places_imported", directory.name),
    )


@import_app.command("cases")
def import_cases_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    id_field: str | None = typer.Option(None, "--id-field"),
    lon_field: str | None = typer.Option(None, "--lon-field"),
    lat_field: str | None = typer.Option(None, "--lat-field"),
    category_field: str | None = typer.Option(None, "--category-field"),
    category_code_field: str | None = typer.Option(
        None, "--category-code-field", help="5-digit type code (GET /api/categories)"
    ),
    reported_at_field: str | None = typer.Option(None, "--reported-at-field"),
    description_field: str | None = typer.Option(None, "--description-field"),
    status_field: str | None = typer.Option(None, "--status-field"),
    source_field: str | None = typer.Option(None, "--source-field"),
    time_zone: str = typer.Option(
        "Asia/Shanghai", "--time-zone", help="for times without an offset"
    ),
    crs: str | None = CrsOpt,
    layer: str | None = LayerOpt,
    commit: bool = CommitOpt,
    skip_rejected: bool = SkipOpt,
    report_file: Path | None = ReportOpt,
) -> None:
    """Import cases and assign each to one grid per level (set-based, in PostGIS)."""
    from onegrid.cases import service

    settings = get_settings()

    def work(session):
        fields = service.CaseFields(
            id=id_field,
            lon=lon_field,
            lat=lat_field,
            category=category_field,
            category_code=category_code_field,
            reported_at=reported_at_field,
            description=description_field,
            status=status_field,
            source=source_field,
        )
        report = service.import_cases(
            session,
            file,
            fields=fields,
            crs=crs,
            time_zone=time_zone,
            boundary_m=settings.on_boundary_m,
            chunk_rows=settings.import_chunk_rows,
            layer=layer,
            progress=_progress,
        )
        if commit:
            service.write_cases(session, progress=_progress)
        return report

    _run_import(work, commit, report_file, skip_rejected, audit=("cases_imported", file.name))


@import_app.command("responsibility-items")
def import_responsibility_items_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    commit: bool = CommitOpt,
    report_file: Path | None = ReportOpt,
) -> None:
    """Import a responsibility list (事项清单) from CSV: code, name, responsible_level,
    on_the_spot, time_limit, category_code, department_code, grids, units. All or nothing."""
    from onegrid.duties import service

    _run_import(
        lambda session: service.import_items(session, file),
        commit,
        report_file,
        skip_rejected=False,
        audit=("responsibility_items_imported", file.name),
    )


@export_app.command("cases")
def export_cases_cmd(
    fmt: str = typer.Option("csv", "--format", help="csv or geojson"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="file (default: standard output)"
    ),
) -> None:
    """Export every case with its grid per level, one row per case."""
    from onegrid.cases import service

    if fmt not in service.EXPORT_FORMATS:  # before the output file is created or truncated
        _err(f"unknown format {fmt!r}; expected one of {', '.join(service.EXPORT_FORMATS)}")
        raise typer.Exit(2)
    factory = _session_factory()
    # The street's own staff at the server: the whole street, and the export is audited.
    staff = Actor(_cli_actor(), "street_admin", client=_cli_client())
    now = datetime.now(UTC)
    try:
        with factory() as session, session.begin():
            if output is None:
                n = service.export_cases(session, sys.stdout, fmt, by=staff, now=now)
            else:
                # utf-8-sig: the BOM lets Excel on Chinese Windows read the CSV as UTF-8.
                encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
                with output.open("w", encoding=encoding, newline="") as f:
                    n = service.export_cases(session, f, fmt, by=staff, now=now)
    except BrokenPipeError:  # `onegrid export cases | head`: the reader has had enough
        sys.stderr.close()
        raise typer.Exit(0) from None
    except OSError as exc:
        _err(f"cannot write {output}: {exc.strerror}")
        raise typer.Exit(2) from exc
    _err(f"exported {n} cases")


# --- indicators --------------------------------------------------------------------------------


@app.command("indicators")
def indicators_cmd(
    start: str = typer.Option(..., "--from", help="cases reported from: 2025-01-01 (Beijing)"),
    end: str = typer.Option(..., "--to", help="... until, excluded: 2026-01-01"),
    by: str = typer.Option(..., "--by", help="street, community, grid, unit or worker"),
    as_of: str | None = typer.Option(None, "--as-of", help="overdue as of (default: now)"),
    fmt: str = typer.Option("table", "--format", help="table, csv or json"),
) -> None:
    """Case indicators (结案率, 按期结案率, 返工率 ...) per group, as GET /api/indicators."""
    from datetime import datetime

    from onegrid.cases.deadlines import TIME_ZONE
    from onegrid.errors import OneGridError
    from onegrid.stats import indicators

    if fmt not in indicators.FORMATS:
        _err(f"unknown format {fmt!r}; expected one of {', '.join(indicators.FORMATS)}")
        raise typer.Exit(2)
    try:
        query = indicators.indicator_query(start, end, by, as_of, datetime.now(TIME_ZONE))
    except OneGridError as exc:
        _err(f"--{(exc.field or '').replace('_', '-')}: {exc.message}")
        raise typer.Exit(2) from exc
    factory = _session_factory()
    with factory() as session:
        result = indicators.case_indicators(session, query, scope=EVERYTHING)
    if fmt == "json":
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        typer.echo(indicators.render_csv(result), nl=False)
    else:
        typer.echo(indicators.render_table(result))


# --- registry statistics ----------------------------------------------------------------------

stats_app = typer.Typer(help="Statistics that answer the street's reporting questions.")
app.add_typer(stats_app, name="stats")


@stats_app.command("registry")
def stats_registry_cmd(
    quarter: str | None = typer.Option(
        None, "--quarter", help="visits counted in this quarter, e.g. 2026Q4 (default: now)"
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Grids per level, sunk departments and staff, responsibility items, property companies,
    courtyards claimed, enterprises visited and problems solved, as GET /api/registry/stats."""
    from onegrid.cases.deadlines import TIME_ZONE
    from onegrid.errors import OneGridError
    from onegrid.stats import registry

    if fmt not in registry.FORMATS:
        _err(f"unknown format {fmt!r}; expected one of {', '.join(registry.FORMATS)}")
        raise typer.Exit(2)
    factory = _session_factory()
    try:
        with factory() as session:
            result = registry.registry_stats(
                session, scope=EVERYTHING, quarter=quarter, now=datetime.now(TIME_ZONE)
            )
    except OneGridError as exc:
        _err(f"--{exc.field}: {exc.message}" if exc.field else exc.message)
        raise typer.Exit(2) from exc
    if fmt == "json":
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        typer.echo(registry.render_table(result))


# --- demo and server ---------------------------------------------------------------------------


users_app = typer.Typer(help="Accounts: create, list, disable, set a password.")
app.add_typer(users_app, name="users")


def _new_password(password_stdin: bool) -> str:
    """From standard input (scripts) or typed twice without echo."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _account_work(work) -> None:
    """Run an account change in one transaction; a refusal is one line and exit 2."""
    from onegrid.errors import OneGridError

    factory = _session_factory()
    try:
        with factory() as session, session.begin():
            work(session)
    except OneGridError as exc:
        _err(f"{exc.field + ': ' if exc.field else ''}{exc.message}")
        raise typer.Exit(2) from exc


@users_app.command("create")
def users_create(
    username: str = typer.Argument(..., help="lower-case letters, digits, . _ -"),
    role: str = typer.Option(..., "--role", help="one of: " + ", ".join(ROLES)),
    name: str | None = typer.Option(None, "--name", help="display name, e.g. 王芳"),
    unit: str | None = typer.Option(None, "--unit", help="unit code (GET /api/units)"),
    grid: str | None = typer.Option(None, "--grid", help="the grid whose subtree is theirs"),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Create an account (the password is asked for, or read from standard input)."""
    from onegrid.auth import service as auth_service

    password = _new_password(password_stdin)

    def work(session) -> None:
        auth_service.create_user(
            session,
            username=username,
            password=password,
            role=role,
            display_name=name,
            unit_code=unit,
            grid_code=grid,
            by=_cli_actor(),
            now=_now(),
            client=_cli_client(),
        )

    _account_work(work)
    typer.echo(f"created {username.strip().lower()} ({role})")


@users_app.command("list")
def users_list() -> None:
    """Every account with its role, scope and state."""
    from onegrid.auth import service as auth_service

    factory = _session_factory()
    now = _now()
    with factory() as session:
        for u in auth_service.list_users(session):
            state = "active" if u["active"] else "disabled"
            if u["active"] and u["locked_until"] and u["locked_until"] > now:
                # Why someone cannot sign in: too many wrong passwords (set-password lifts it).
                state = f"locked until {u['locked_until'].astimezone(now.tzinfo):%H:%M}"
            scope = " ".join(f"{k}={u[k]}" for k in ("unit_code", "grid_code") if u[k])
            typer.echo(f"{u['username']:20s} {u['role']:18s} {state:8s} {scope}".rstrip())


@users_app.command("disable")
def users_disable(username: str = typer.Argument(...)) -> None:
    """Disable an account and revoke its refresh tokens."""
    from onegrid.auth import service as auth_service

    _account_work(
        lambda session: auth_service.disable_user(
            session, username, by=_cli_actor(), now=_now(), client=_cli_client()
        )
    )
    typer.echo(f"disabled {username}")


@users_app.command("enable")
def users_enable(username: str = typer.Argument(...)) -> None:
    """Enable a disabled account again (its grid or unit must still exist)."""
    from onegrid.auth import service as auth_service

    _account_work(
        lambda session: auth_service.change_user(
            session,
            username,
            {"active": True},
            by=_cli_actor(),
            now=_now(),
            client=_cli_client(),
        )
    )
    typer.echo(f"enabled {username}")


@users_app.command("set-password")
def users_set_password(
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Set a new password; the account's tokens stop working."""
    from onegrid.auth import service as auth_service

    password = _new_password(password_stdin)
    _account_work(
        lambda session: auth_service.set_password(
            session, username, password, by=_cli_actor(), now=_now(), client=_cli_client()
        )
    )
    typer.echo(f"password set for {username}")


def _now():
    from datetime import datetime

    from onegrid.cases.deadlines import TIME_ZONE

    return datetime.now(TIME_ZONE)


@app.command("seed")
def seed_cmd(
    units_file: Path | None = typer.Option(
        None, "--units", exists=True, dir_okay=False, help="units CSV (default: packaged)"
    ),
    categories_file: Path | None = typer.Option(
        None, "--categories", exists=True, dir_okay=False, help="categories CSV (default: packaged)"
    ),
) -> None:
    """Load or update the units and the case categories (all or nothing)."""
    from onegrid.cases.taxonomy import SeedError
    from onegrid.units import service as units_service

    factory = _session_factory()
    try:
        with factory() as session, session.begin():
            counts = units_service.load_seed(session, units_file, categories_file)
    except SeedError as exc:
        _err(f"nothing loaded:\n{exc}")
        raise typer.Exit(1) from exc
    typer.echo(f"loaded {counts['units']} units and {counts['categories']} categories")


@app.command("demo")
def demo_cmd(
    out_dir: Path = typer.Option(
        Path("gis_data/demo"), "--out", help="where the generated files go"
    ),
    reset: bool = typer.Option(False, "--reset", help="delete all grids, places and cases first"),
) -> None:
    """Generate the demo street (deterministic) and load it, unless it is loaded already, with
    one account per role; their passwords are printed once and kept in var/demo-accounts.txt."""
    from onegrid.demo.load import ACCOUNTS_FILE, load_demo_street

    factory = _session_factory()
    load_demo_street(
        factory,
        out_dir,
        reset=reset,
        progress=_progress,
        accounts_file=ACCOUNTS_FILE,
        by=_cli_actor(),
    )


@app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
) -> None:
    """Start the database if needed, migrate, and serve the API and the map."""
    import uvicorn

    from onegrid.main import create_app, server_config

    settings = get_settings()
    if not port_is_free(host, port):
        _err(
            f"cannot listen on {host}:{port} (in use, or not an address of this machine):"
            " choose another with --host/--port (run.sh: ONEGRID_HOST, ONEGRID_PORT)"
        )
        raise typer.Exit(2)
    url = db_engine.resolve_database_url(settings, log=_err)
    db_engine.ensure_database(url, log=_err)
    typer.echo(f"OneGrid on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    uvicorn.Server(server_config(create_app(settings), host, port)).run()


@export_app.command("map")
def export_map_cmd(
    output: Path = typer.Option(Path("onegrid-map.html"), "--output", "-o"),
) -> None:
    """Write a standalone HTML map (folium): grids by level and a heat map of cases."""
    from onegrid.cases import repository as cases_repo
    from onegrid.db.base import LEVELS
    from onegrid.grids import service as grids_service
    from onegrid.stats.maps import case_map, heat_points

    factory = _session_factory()
    with factory() as session:
        grids = {
            level: grids_service.grid_features(session, scope=EVERYTHING, level=level)
            for level in LEVELS
        }
        points = heat_points(
            (r["lon"], r["lat"]) for r in cases_repo.iter_cases(session, scope=EVERYTHING)
        )
    case_map(grids, points).save(str(output))
    typer.echo(f"map with {len(points)} cases written to {output}")


def main() -> None:
    """Console entry point: every failure is one clear line and exit code 2 (130 for Ctrl-C).

    ONEGRID_DEBUG=1 shows the traceback of an unexpected error.
    """
    import os

    from pydantic import ValidationError

    from onegrid.errors import OneGridError

    try:
        app()
    except OneGridError as exc:
        _err(exc.message)
        sys.exit(2)
    except ValidationError as exc:  # ONEGRID_* settings that cannot be read
        problem = exc.errors()[0]
        _err(f"setting ONEGRID_{str(problem['loc'][0]).upper()}: {problem['msg']}")
        sys.exit(2)
    except KeyboardInterrupt:
        _err("interrupted: a running import was rolled back, nothing of it was written")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("ONEGRID_DEBUG"):
            raise
        _err(
            f"failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            " (ONEGRID_DEBUG=1 shows the traceback)"
        )
        sys.exit(2)
