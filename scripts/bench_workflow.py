#!/usr/bin/env python
"""Benchmark case workflow transitions through the API, and the indicator query.

One run, in a database of its own (``onegrid_bench_workflow`` on the server of
``onegrid db url``):

1. loads a small generated street (4 communities, 24 third-level grids) with the product's
   grid import, and the packaged units and categories;
2. generates 1,000,000 cases spread over a year, set-based in SQL (INSERT ... SELECT from
   generate_series), with a realistic mix of states and the milestones, counters, ratings and
   deadlines that go with each state (recent cases are more often still open);
3. starts ``onegrid serve`` on a free port and walks N new cases through
   screen → file → dispatch → accept → report_back → verify → close with several client
   threads: transitions per second, p50/p99 per transition;
4. times the indicator query (the product's service, one SQL statement) for a whole street and
   the year, by street, community, grid, unit and worker, against the goal (< 1 s), and the
   floor of one scan, ``SELECT count(*) FROM cases WHERE reported_at`` in the period.

Human-readable progress goes to stdout as it runs; the LAST line is one JSON object.

    .venv/bin/python scripts/bench_workflow.py
    .venv/bin/python scripts/bench_workflow.py --cases 100000 --walk 100   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench_assignment import (
    bench_account,
    drop_database,
    environment,
    free_port,
    fresh_database,
    libpq,
    pct,
    proc_cpu_s,
    server_env,
    server_url,
    with_database,
)

REPO = Path(__file__).resolve().parents[1]
DB_NAME = "onegrid_bench_workflow"
T0 = time.perf_counter()
GOAL_S = 1.0
GROUPINGS = ("street", "community", "grid", "unit", "worker")

# The year of generated cases, and the moment "overdue" is judged at (Beijing time).
PERIOD = ("2025-12-01", "2026-12-01")
AS_OF = "2026-12-01T00:00:00+08:00"
MONTH = ("2026-06-01", "2026-07-01")

# A street of 2 x 2 communities, each cut into 3 x 2 grids (lon/lat rectangles near Zhengzhou).
WEST, SOUTH, EAST, NORTH = 113.60, 34.76, 113.64, 34.79
COMMUNITIES_X, COMMUNITIES_Y, GRIDS_X, GRIDS_Y = 2, 2, 3, 2

GARBAGE = "01001"  # 暴露垃圾: dispatched to its category department
HEADERS: dict[tuple[str, str | None], dict[str, str]] = {}  # (who, community or unit) -> auth
WALK = (  # (action, who, fields)
    ("screen", "community", {}),
    ("file", "dispatcher", {}),
    ("dispatch", "dispatcher", {}),
    ("accept", "handler", {}),
    ("report_back", "handler", {"note": "已处置"}),
    ("verify", "worker", {"verdict": "passed", "note": "现场已核查"}),
    ("close", "dispatcher", {}),
)


def say(message: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {message}", flush=True)


def rectangle(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]}


def street_files(out: Path) -> dict[str, Path]:
    """GeoJSON of the street, its communities and their grids, with parent codes."""
    street = "410105002000"
    features: dict[str, list[dict[str, Any]]] = {"street": [], "second": [], "third": []}

    def feature(level: str, code: str, name: str, parent: str | None, geom: dict) -> None:
        props = {"code": code, "name": name, "parent_code": parent}
        features[level].append({"type": "Feature", "properties": props, "geometry": geom})

    feature("street", street, "基准测试街道", None, rectangle(WEST, SOUTH, EAST, NORTH))
    cw, ch = (EAST - WEST) / COMMUNITIES_X, (NORTH - SOUTH) / COMMUNITIES_Y
    gw, gh = cw / GRIDS_X, ch / GRIDS_Y
    for cy in range(COMMUNITIES_Y):
        for cx in range(COMMUNITIES_X):
            second = f"{street}{cy * COMMUNITIES_X + cx + 1:02d}"
            x0, y0 = WEST + cx * cw, SOUTH + cy * ch
            feature(
                "second",
                second,
                f"第{second[-2:]}社区",
                street,
                rectangle(x0, y0, x0 + cw, y0 + ch),
            )
            for gy in range(GRIDS_Y):
                for gx in range(GRIDS_X):
                    third = f"{second}{gy * GRIDS_X + gx + 1:02d}"
                    feature(
                        "third",
                        third,
                        f"网格{third[-4:]}",
                        second,
                        rectangle(
                            x0 + gx * gw, y0 + gy * gh, x0 + (gx + 1) * gw, y0 + (gy + 1) * gh
                        ),
                    )
    paths = {}
    for level, feats in features.items():
        paths[level] = out / f"{level}.geojson"
        paths[level].write_text(
            json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
            encoding="utf-8",
        )
    return paths


def load_street(url: str, workdir: Path) -> dict[str, int]:
    """Units, categories and the grids, through the product's own loaders."""
    from onegrid.db.engine import make_engine, session_factory
    from onegrid.grids import service as grids_service
    from onegrid.units import service as units_service

    engine = make_engine(url)
    try:
        with session_factory(engine)() as session, session.begin():
            units_service.load_seed(session)
            for level, path in street_files(workdir).items():
                report = grids_service.import_grids(
                    session,
                    path,
                    level=level,
                    parent_field=None if level == "street" else "parent_code",
                )
                if report.rejected:
                    raise RuntimeError(f"{level} grids rejected: {report.rejected[0].describe()}")
                grids_service.write_grids(session, level)
            _make_accounts(session)
    finally:
        engine.dispose()
    return {
        "street": 1,
        "second": COMMUNITIES_X * COMMUNITIES_Y,
        "third": COMMUNITIES_X * COMMUNITIES_Y * GRIDS_X * GRIDS_Y,
    }


def _make_accounts(session: Any) -> None:
    """One account per part the walk needs: a grid worker who reports (and so sees their
    reports), the staff of each community, a dispatcher and a handler per department."""
    import sqlalchemy as sa

    thirds = session.execute(
        sa.text("SELECT code FROM grids WHERE level = 'third' AND valid_to IS NULL ORDER BY code")
    ).scalars().all()
    communities = session.execute(
        sa.text("SELECT code FROM grids WHERE level = 'second' AND valid_to IS NULL")
    ).scalars()
    units = session.execute(sa.text("SELECT code FROM units WHERE kind = 'department'")).scalars()
    # A worker reports everywhere (it is their report), but verifies only in their own grid.
    for t in thirds:
        HEADERS[("worker", t)] = bench_account(
            session, f"bench-worker-{t}".lower(), "grid_worker", grid=t
        )
    HEADERS[("worker", None)] = HEADERS[("worker", thirds[0])]
    HEADERS[("dispatcher", None)] = bench_account(session, "bench-dispatcher", "street_dispatcher")
    for c in communities:
        HEADERS[("community", c)] = bench_account(
            session, f"bench-community-{c}".lower(), "community_staff", grid=c
        )
    for u in units:
        HEADERS[("handler", u)] = bench_account(
            session, f"bench-handler-{u}".lower(), "department_handler", unit=u
        )


# Open states are likely only for recent cases; old ones are mostly finished, a few stale.
GENERATE_CASES = """
INSERT INTO cases (
    external_id, category, category_code, description, source, status, reported_at, geom,
    raw_x, raw_y, raw_crs, street_grid_id, second_grid_id, third_grid_id, responsible_grid_id,
    assignment_rule, on_boundary, outside_coverage, assigned_at, urgent, reporter, unit_code,
    dispatch_rule, step, step_basis, step_started_at, step_length_s, warn_at, due_at,
    parked_from, filed_at, dispatched_at, reported_back_at, closed_at, voided_valid,
    late_steps, rework_count, extension_count, escalated, satisfaction, version)
WITH grid AS (
    SELECT array_agg(c.grid_id ORDER BY c.grid_id) AS third,
           array_agg(c.second_id ORDER BY c.grid_id) AS second,
           array_agg(c.street_id ORDER BY c.grid_id) AS street,
           array_agg(ST_X(ST_PointOnSurface(g.geom)) ORDER BY c.grid_id) AS x,
           array_agg(ST_Y(ST_PointOnSurface(g.geom)) ORDER BY c.grid_id) AS y,
           count(*)::int AS n
    FROM grid_chain c JOIN grids g ON g.id = c.grid_id WHERE c.level = 'third'
), cat AS (
    SELECT array_agg(code ORDER BY code) AS code, array_agg(name ORDER BY code) AS name,
           array_agg(department_code ORDER BY code) AS unit, count(*)::int AS n
    FROM case_categories
), draw AS (  -- volatile: one set of draws per row
    SELECT i, random() AS u_state, random() AS u_open, random() AS u_grid, random() AS u_cat,
           random() AS u_who, random() AS u_self, random() AS u_late, random() AS u_fix,
           random() AS u_time, random() AS u_rate
    FROM generate_series(1, :n) AS i
), timed AS (
    SELECT d.*, :start + (d.i - 1 + d.u_time) * (:end - :start) / :n AS reported_at,
           1 + floor(d.u_grid * grid.n)::int AS g, 1 + floor(d.u_cat * cat.n)::int AS k
    FROM draw d, grid, cat
), staged AS (
    SELECT t.*, CASE
        WHEN t.u_state < CASE WHEN :end - t.reported_at < interval '30 days' THEN 0.45
                              ELSE 0.03 END
        THEN CASE WHEN t.u_open < 0.10 THEN 'reported' WHEN t.u_open < 0.13 THEN 'returned'
                  WHEN t.u_open < 0.18 THEN 'screened' WHEN t.u_open < 0.25 THEN 'filed'
                  WHEN t.u_open < 0.35 THEN 'dispatched' WHEN t.u_open < 0.80 THEN 'handling'
                  WHEN t.u_open < 0.90 THEN 'reported_back' ELSE 'verified' END
        ELSE CASE WHEN t.u_open < 0.02 THEN 'parked' WHEN t.u_open < 0.08 THEN 'voided'
                  WHEN t.u_open < 0.10 THEN 'merged' WHEN t.u_open < 0.55 THEN 'closed'
                  ELSE 'evaluated' END
        END AS status
    FROM timed t
), milestones AS (
    SELECT s.*,
           s.status IN ('closed', 'evaluated') AND s.u_self < 0.2 AS self_handled,
           s.status IN ('filed', 'dispatched', 'handling', 'reported_back', 'verified', 'parked')
             OR (s.status IN ('closed', 'evaluated') AND s.u_self >= 0.2)
             OR (s.status = 'voided' AND s.u_self < 0.3) AS filed,
           s.status IN ('dispatched', 'handling', 'reported_back', 'verified')
             OR (s.status IN ('closed', 'evaluated') AND s.u_self >= 0.2)
             OR (s.status = 'parked' AND s.u_self < 0.7) AS dispatched,
           s.status IN ('reported_back', 'verified')
             OR (s.status IN ('closed', 'evaluated') AND s.u_self >= 0.2) AS handled,
           -- hours of handling: mostly within a day, a long tail of a few days
           0.5 + 40 * s.u_fix * s.u_fix AS handle_h
    FROM staged s
)
SELECT
    'GEN' || lpad(m.i::text, 8, '0'),
    cat.name[m.k], cat.code[m.k],
    '巡查发现' || cat.name[m.k] || '，位于' || m.g || '号网格，请尽快处置。',
    CASE WHEN m.u_who < 0.65 THEN 'grid_patrol' WHEN m.u_who < 0.85 THEN 'hotline_12345'
         ELSE 'resident_wechat' END,
    m.status, m.reported_at,
    ST_SetSRID(ST_MakePoint(grid.x[m.g] + (m.u_fix - 0.5) * 0.001,
                            grid.y[m.g] + (m.u_rate - 0.5) * 0.001), 4326),
    grid.x[m.g], grid.y[m.g], 'wgs84',
    grid.street[m.g], grid.second[m.g], grid.third[m.g], grid.third[m.g],
    'deepest_covering', false, false, m.reported_at, false,
    CASE WHEN m.u_who < 0.65 THEN 'worker-' || m.g || '-' || (1 + floor(m.u_who * 10)::int % 3)
    END,
    CASE WHEN m.dispatched THEN cat.unit[m.k] END,
    CASE WHEN m.dispatched THEN 'category_department' END,
    o.step, CASE WHEN o.step IS NOT NULL THEN 'work' END, o.started,
    CASE WHEN o.step IS NOT NULL THEN extract(epoch FROM o.length) END,
    o.started + o.length * 0.8, o.started + o.length,
    CASE WHEN m.status = 'parked' THEN CASE WHEN m.dispatched THEN 'handling' ELSE 'filed' END
    END,
    CASE WHEN m.filed THEN m.reported_at + interval '20 minutes' END,
    CASE WHEN m.dispatched THEN m.reported_at + interval '30 minutes' END,
    CASE WHEN m.handled
         THEN m.reported_at + interval '30 minutes' + m.handle_h * interval '1 hour' END,
    CASE WHEN m.self_handled THEN m.reported_at + interval '15 minutes'
         WHEN m.status IN ('closed', 'evaluated')
         THEN m.reported_at + (m.handle_h + 5) * interval '1 hour' END,
    CASE WHEN m.status = 'voided' THEN m.u_rate < 0.6 END,
    CASE WHEN NOT (m.filed OR m.self_handled) THEN 0 WHEN m.u_late < 0.03 THEN 2
         WHEN m.u_late < 0.12 THEN 1 ELSE 0 END,
    CASE WHEN m.handled AND m.u_fix > 0.99 THEN 2 WHEN m.handled AND m.u_fix > 0.94 THEN 1
         ELSE 0 END,
    CASE WHEN m.dispatched AND m.u_time < 0.05 THEN 1 ELSE 0 END,
    m.u_late < 0.01,
    CASE WHEN m.status = 'evaluated' THEN CASE WHEN m.u_rate < 0.5 THEN 5
         WHEN m.u_rate < 0.8 THEN 4 WHEN m.u_rate < 0.9 THEN 3 WHEN m.u_rate < 0.96 THEN 2
         ELSE 1 END END,
    CASE WHEN m.status = 'reported' THEN 1 ELSE 4 END
FROM milestones m, grid, cat,
LATERAL (  -- the running step's clock of an open case
    SELECT CASE WHEN m.status IN ('reported', 'screened', 'filed') THEN 'file'
                WHEN m.status IN ('dispatched', 'handling') THEN 'handle'
                WHEN m.status = 'reported_back' THEN 'verify'
                WHEN m.status = 'verified' THEN 'close' END AS step,
           CASE WHEN m.status IN ('dispatched', 'handling')
                THEN m.reported_at + interval '30 minutes'
                WHEN m.status IN ('reported', 'screened', 'filed', 'reported_back', 'verified')
                THEN m.reported_at END AS started,
           CASE WHEN m.status IN ('dispatched', 'handling') THEN (1 + m.k % 5) * interval '1 day'
                WHEN m.status IN ('reported', 'screened', 'filed', 'reported_back')
                THEN interval '1 hour'
                WHEN m.status = 'verified' THEN interval '1 day' END AS length
) o
"""


def generate_cases(url: str, n: int, start: datetime, end: datetime) -> dict[str, Any]:
    import psycopg
    import sqlalchemy as sa

    from onegrid.db.engine import make_engine

    engine = make_engine(url)
    try:
        t = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT setseed(0.20261203)"))  # the same cases every run
            conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
            conn.execute(sa.text(GENERATE_CASES), {"start": start, "end": end, "n": n})
        generated_s = time.perf_counter() - t
    finally:
        engine.dispose()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE cases")
        vacuum_s = time.perf_counter() - t
        mix = dict(
            conn.execute(
                "SELECT status, count(*) FROM cases GROUP BY status ORDER BY count(*) DESC"
            ).fetchall()
        )
        size = conn.execute(
            "SELECT pg_size_pretty(pg_table_size('cases')),"
            " pg_size_pretty(pg_indexes_size('cases')),"
            " (pg_table_size('cases') / greatest(count(*), 1))::int FROM cases"
        ).fetchone()
    return {
        "seconds": generated_s,
        "vacuum_analyze_s": vacuum_s,
        "status_mix": mix,
        "table_size": size[0],
        "indexes_size": size[1],
        "bytes_per_row": size[2],
    }


# --- (a) transitions through the real server --------------------------------------------------


def start_server(url: str) -> tuple[subprocess.Popen, str, Any]:
    import httpx

    port = free_port()
    log = open(Path(tempfile.gettempdir()) / f"onegrid-bench-workflow-{port}.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "onegrid"), "serve", "--port", str(port)],
        env=server_env(url),
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return server, base, log
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            stop_server(server, log)
            raise RuntimeError(f"the server did not start; see {log.name}")
        time.sleep(0.2)


def stop_server(server: subprocess.Popen, log: Any) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()


def headers_for(who: str, case: dict[str, Any]) -> dict[str, str]:
    part = {
        "community": case.get("second_code"),
        "handler": case.get("unit_code"),
        "worker": case.get("third_code"),
    }.get(who)
    return HEADERS[(who, part)]


def report_cases(client: Any, n: int, offset: int) -> list[dict[str, Any]]:
    """n new cases inside the street, reported by a grid worker (not timed as transitions)."""
    cases = []
    for k in range(n):
        j = offset + k
        lon = WEST + (EAST - WEST) * (0.05 + 0.9 * ((j * 0.6180339887) % 1))
        lat = SOUTH + (NORTH - SOUTH) * (0.05 + 0.9 * ((j * 0.7548776662) % 1))
        r = client.post(
            "/api/cases",
            headers=HEADERS[("worker", None)],
            json={
                "lon": round(lon, 7),
                "lat": round(lat, 7),
                "category_code": GARBAGE,
                "description": f"基准测试 {j}",
            },
        )
        if r.status_code != 201:
            raise RuntimeError(f"POST /api/cases answered {r.status_code}: {r.text[:200]}")
        cases.append(r.json())
    return cases


def walk(client: Any, case: dict[str, Any], times: list[float] | None) -> int:
    """Move one case from reported to closed; returns the number of refused moves."""
    failed = 0
    for action, who, fields in WALK:
        t = time.perf_counter()
        r = client.post(
            f"/api/cases/{case['id']}/actions/{action}",
            headers=headers_for(who, case),
            json={"version": case["version"], **fields},
        )
        if times is not None:
            times.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            failed += 1
            say(f"  {action} on case {case['id']} answered {r.status_code}: {r.text[:200]}")
            break
        case = r.json()
    return failed


def transitions_benchmark(
    base: str, server: subprocess.Popen, n: int, threads: int
) -> dict[str, Any]:
    import httpx

    with httpx.Client(base_url=base, timeout=60) as client:
        t = time.perf_counter()
        warm = report_cases(client, 20, 0)
        for case in warm:  # pool connections, plans, code paths
            walk(client, case, None)
        cases = report_cases(client, n, len(warm))
        say(
            f"  {n + len(warm)} cases reported (POST) in {time.perf_counter() - t:.1f} s; "
            f"20 walked to warm up"
        )

    shares = [cases[w::threads] for w in range(threads)]
    times: list[list[float]] = [[] for _ in range(threads)]
    failures = [0] * threads
    gate = threading.Barrier(threads + 1)

    def worker(w: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as c:
            c.get("/api/health")  # open the connection before the clock starts
            gate.wait()
            for case in shares[w]:
                failures[w] += walk(c, case, times[w])

    pool = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for p in pool:
        p.start()
    gate.wait()
    t = time.perf_counter()
    cpu = proc_cpu_s(server.pid)
    for p in pool:
        p.join()
    elapsed = time.perf_counter() - t
    server_cpu = proc_cpu_s(server.pid) - cpu
    flat = [x for part in times for x in part]
    result = {
        "cases": n,
        "threads": threads,
        "transitions": len(flat),
        "failed": sum(failures),
        "seconds": elapsed,
        "per_s": len(flat) / elapsed,
        "p50_ms": pct(flat, 50),
        "p99_ms": pct(flat, 99),
        "max_ms": max(flat),
        "server_cpu_ms_per_transition": 1000 * server_cpu / max(1, len(flat)),
    }
    say(
        f"  {len(flat):,} transitions ({n} cases x {len(WALK)}) with {threads} client threads "
        f"in {elapsed:.1f} s = {result['per_s']:.0f} transitions/s; p50 {result['p50_ms']:.1f} ms,"
        f" p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.0f} ms, "
        f"{result['failed']} failed; server process CPU "
        f"{result['server_cpu_ms_per_transition']:.2f} ms per transition (Python side only)"
    )
    return result


# --- (b) the indicator query ---------------------------------------------------------------------


def timed_runs(work: Any, repeat: int) -> float:
    """The median seconds of `repeat` runs of work()."""
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        work()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def indicator_benchmark(url: str, repeat: int) -> dict[str, Any]:
    import sqlalchemy as sa

    from onegrid.auth.scope import EVERYTHING
    from onegrid.db.engine import make_engine, session_factory
    from onegrid.stats import indicators

    engine = make_engine(url)
    factory = session_factory(engine)
    now = datetime.fromisoformat(AS_OF)
    out: dict[str, Any] = {"period": PERIOD, "as_of": AS_OF, "repeat": repeat, "by": {}}
    try:
        with factory() as session:
            query = indicators.indicator_query(PERIOD[0], PERIOD[1], "street", AS_OF, now)
            floor_sql = sa.text(
                "SELECT count(*) FROM cases WHERE reported_at >= :start AND reported_at < :end"
            )
            params = {"start": query.start, "end": query.end}
            floor = []
            for _ in range(repeat):
                t = time.perf_counter()
                counted = session.execute(floor_sql, params).scalar_one()
                floor.append(time.perf_counter() - t)
            floor_s = statistics.median(floor)
            plan = [r[0] for r in session.execute(sa.text("EXPLAIN " + str(floor_sql)), params)]
            scan = next((line.strip("-> ") for line in plan if "Scan" in line), plan[0])
            say(
                f"  floor: SELECT count(*) ... reported_at in the period: {counted:,} cases, "
                f"median {floor_s * 1000:.0f} ms (min {min(floor) * 1000:.0f}, max "
                f"{max(floor) * 1000:.0f}) via {scan.split('  (')[0]}"
            )
            out.update(floor_s=floor_s, floor_all_s=floor, cases_in_period=counted)
            for by in GROUPINGS:
                query = indicators.indicator_query(PERIOD[0], PERIOD[1], by, AS_OF, now)
                runs = []
                for _ in range(repeat):
                    t = time.perf_counter()
                    result = indicators.case_indicators(session, query, scope=EVERYTHING)
                    runs.append(time.perf_counter() - t)
                median = statistics.median(runs)
                total = result["total"]
                out["by"][by] = {
                    "median_s": median,
                    "all_s": runs,
                    "groups": len(result["groups"]),
                    "ratio_to_floor": median / floor_s,
                    "goal_met": median < GOAL_S,
                    "total_reports": total["reports"],
                    "closure_rate": total["closure_rate"]["value"],
                }
                say(
                    f"  by={by:9s}: median {median * 1000:6.0f} ms (min {min(runs) * 1000:.0f}, "
                    f"max {max(runs) * 1000:.0f}) for {len(result['groups'])} groups, "
                    f"{total['reports']:,} cases; {median / floor_s:.1f} x the floor; goal < "
                    f"{GOAL_S:g} s: {'met' if median < GOAL_S else 'NOT MET'}"
                )
            out["total"] = result["total"]

            # Two more cases worth knowing: a busy machine, where no parallel worker is free,
            # and a shorter period, which reads cases_reported_at_idx instead of every case.
            session.execute(sa.text("SET max_parallel_workers_per_gather = 0"))
            query = indicators.indicator_query(PERIOD[0], PERIOD[1], "grid", AS_OF, now)
            serial = timed_runs(
                lambda: indicators.case_indicators(session, query, scope=EVERYTHING), repeat
            )
            session.execute(sa.text("RESET max_parallel_workers_per_gather"))
            say(f"  by=grid without parallel workers: median {serial * 1000:.0f} ms")
            query = indicators.indicator_query(*MONTH, "grid", AS_OF, now)
            month = timed_runs(
                lambda: indicators.case_indicators(session, query, scope=EVERYTHING), repeat
            )
            say(f"  by=grid for one month, {MONTH[0]} to {MONTH[1]}: median {month * 1000:.0f} ms")
            out.update(grid_serial_s=serial, grid_month_s=month)

            from onegrid.stats.repository import indicator_sql

            analyse = sa.text("EXPLAIN (ANALYZE, BUFFERS) " + indicator_sql("community"))
            out["plan_community"] = [
                r[0] for r in session.execute(analyse, {**params, "as_of": now})
            ]
    finally:
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="generated cases")
    parser.add_argument("--walk", type=int, default=400, help="cases walked through the API")
    parser.add_argument("--threads", type=int, default=4, help="client threads walking cases")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each indicator query")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database")
    args = parser.parse_args()

    say(f"OneGrid workflow benchmark: {args.cases:,} generated cases, {args.walk} walked")
    url = with_database(server_url(), DB_NAME)
    say(f"database {url}")
    fresh_database(url)
    env = environment(url)
    say("environment: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    result: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="onegrid-bench-workflow-") as workdir:
            grids = load_street(url, Path(workdir))
        say(f"street loaded with the product's grid import: {grids}")

        from onegrid.stats.indicators import parse_moment

        start, end = parse_moment(PERIOD[0], "from"), parse_moment(PERIOD[1], "to")
        gen = generate_cases(url, args.cases, start, end)
        say(
            f"{args.cases:,} cases generated in {gen['seconds']:.1f} s (INSERT ... SELECT), "
            f"VACUUM ANALYZE {gen['vacuum_analyze_s']:.1f} s; table {gen['table_size']}, "
            f"indexes {gen['indexes_size']}, {gen['bytes_per_row']} bytes per row"
        )
        say(f"  states: {gen['status_mix']}")

        say("(a) transitions through the real server (onegrid serve):")
        server, base, log = start_server(url)
        try:
            walked = transitions_benchmark(base, server, args.walk, args.threads)
        finally:
            stop_server(server, log)

        say(f"(b) the indicator query, a whole street and the year {PERIOD[0]} to {PERIOD[1]}:")
        ind = indicator_benchmark(url, args.repeat)
        say("  plan of by=community (EXPLAIN ANALYZE):")
        for line in ind["plan_community"]:
            print("      " + line, flush=True)
        slowest = max(v["median_s"] for v in ind["by"].values())
        say(
            f"slowest grouping {slowest * 1000:.0f} ms: goal < {GOAL_S:g} s "
            f"{'met' if slowest < GOAL_S else 'NOT MET'}"
        )
        result = {
            "cases": args.cases,
            "transitions_per_s": round(walked["per_s"], 1),
            "transition_p50_ms": round(walked["p50_ms"], 2),
            "transition_p99_ms": round(walked["p99_ms"], 2),
            "transitions": walked,
            "indicator_s": {by: round(v["median_s"], 4) for by, v in ind["by"].items()},
            "indicator_goal_s": GOAL_S,
            "indicator_goal_met": slowest < GOAL_S,
            "floor_count_s": round(ind["floor_s"], 4),
            "indicator_grid_serial_s": round(ind["grid_serial_s"], 4),
            "indicator_grid_one_month_s": round(ind["grid_month_s"], 4),
            "ratio_to_floor": {by: round(v["ratio_to_floor"], 2) for by, v in ind["by"].items()},
            "indicators": {k: v for k, v in ind.items() if k != "plan_community"},
            "generation": gen,
            "env": {**env, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        }
    finally:
        if not args.keep:
            try:
                drop_database(url)
            except Exception as exc:  # noqa: BLE001 - report, never mask the real error
                say(f"could not drop {DB_NAME}: {exc}")
    print(json.dumps(result, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    main()
