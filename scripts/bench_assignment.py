#!/usr/bin/env python
"""Benchmark case import + assignment, a plain PostGIS join, and POST /api/cases.

One run, in a database of its own (``onegrid_bench`` on the same server):

1. generates a street of realistic size (deterministic, numpy seed): one street polygon,
   ~20 second-level grids tiling it, ~200 third-level grids tiling those and ~4,000 micro
   grids inside the third-level ones, every polygon with 50-300 vertices. The comprehensive
   levels come from one lattice of wiggly edges, each edge computed and rounded once, so
   neighbours share identical vertices. The levels are loaded with the product's import.
2. for each N: writes N cases as CSV (spread over the street, some clustered, ~1 % outside)
   and times the product's import exactly as ``onegrid import cases FILE --commit`` runs it,
   in a child process whose peak RSS is the import's peak memory;
3. times the baseline ``UPDATE cases_baseline ... FROM grids WHERE ST_Covers(...)`` (third
   level only) on the same points, and the ratio; then the storage floor: copying the
   stored rows server-side into a table with the same indexes, which bounds any import;
4. times single point lookups in SQL, and POST /api/cases on the real server (sequential
   p50/p99, then a sustained rate with several client threads), and reads the server's RSS.

Human-readable progress goes to stdout as it runs; the LAST line is one JSON object.

    .venv/bin/python scripts/bench_assignment.py --quick
    .venv/bin/python scripts/bench_assignment.py --cases 100000
    .venv/bin/python scripts/bench_assignment.py            # 100,000 and 1,000,000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DB_NAME = "onegrid_bench"
T0 = time.perf_counter()

# Local metric frame -> WGS 84 (Zhengzhou, 113.6-113.8 E, 34.7-34.85 N).
LON0, LAT0 = 113.655, 34.745
M_PER_DEG_LAT = 110_950.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0 + 0.012))
DECIMALS = 7

CATEGORIES = (
    ("占道经营", 18), ("乱堆物料", 14), ("暴露垃圾", 16), ("道路破损", 8), ("井盖缺失", 3),
    ("违规广告", 9), ("私搭乱建", 5), ("绿化损毁", 6), ("噪音扰民", 7), ("共享单车乱停", 10),
    ("路灯不亮", 4),
)


def say(message: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {message}", flush=True)


def pct(values: list[float] | np.ndarray, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q))


# --- the street --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    blocks_x: int  # second-level grids west to east
    blocks_y: int  # ... south to north
    block_cols: int = 5  # third-level cells per second-level grid, west to east
    block_rows: int = 2  # ... south to north
    micro_x: int = 5  # micro grids per third-level cell
    micro_y: int = 4
    cell_m: float = 250.0

    @property
    def cols(self) -> int:
        return self.blocks_x * self.block_cols

    @property
    def rows(self) -> int:
        return self.blocks_y * self.block_rows


FULL = Layout(blocks_x=4, blocks_y=5)  # 20 second, 200 third, 4,000 micro
QUICK = Layout(blocks_x=1, blocks_y=2, micro_y=2)  # 2 second, 20 third, 200 micro


def to_lonlat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    lon = np.round(LON0 + np.asarray(x) / M_PER_DEG_LON, DECIMALS)
    lat = np.round(LAT0 + np.asarray(y) / M_PER_DEG_LAT, DECIMALS)
    return np.column_stack([lon, lat])


def to_metres(lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (lonlat[:, 0] - LON0) * M_PER_DEG_LON, (lonlat[:, 1] - LAT0) * M_PER_DEG_LAT


@dataclass
class Street:
    layout: Layout
    features: dict[str, list[dict[str, Any]]]  # level -> GeoJSON features
    street_lonlat: np.ndarray  # outer ring of the street (closed)
    corners_lonlat: np.ndarray  # every lattice corner, (n, 2)
    vertex_stats: dict[str, dict[str, int]] = field(default_factory=dict)


def _wiggly_edge(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, major: bool) -> np.ndarray:
    """Interior points (metres) of the edge a->b: a road centre line, gently wiggling."""
    k = int(rng.integers(6, 15) if major else rng.integers(14, 37))
    amplitude = 3.0 if major else 8.0
    t = (np.arange(k) + 0.5 + rng.uniform(-0.35, 0.35, k)) / k
    d = b - a
    length = float(np.hypot(*d))
    normal = np.array([-d[1], d[0]]) / length
    wave = 0.6 * np.sin(2 * np.pi * rng.uniform(0.5, 2.5) * t + rng.uniform(0, 2 * np.pi))
    wave += 0.4 * rng.uniform(-1, 1, k)
    offset = amplitude * np.sin(np.pi * t) * wave
    return a + np.outer(t, d) + np.outer(offset, normal)


def _blob(rng: np.random.Generator, centre: np.ndarray, radius: float) -> np.ndarray:
    """An irregular star-shaped ring (metres) of 50-300 vertices, within radius * 1.25."""
    n = int(rng.integers(50, 301))
    theta = np.sort((np.arange(n) + rng.uniform(-0.3, 0.3, n)) / n * 2 * np.pi)
    shape = np.zeros(n)
    for h in range(2, 7):
        shape += rng.uniform(-0.05, 0.05) * np.cos(h * theta + rng.uniform(0, 2 * np.pi))
    shape += rng.uniform(-0.02, 0.02, n)
    r = radius * (1.0 + shape)  # |shape| <= 0.27
    return centre + np.column_stack([r * np.cos(theta), r * np.sin(theta)])


def build_street(layout: Layout, seed: int) -> Street:
    import shapely
    from shapely import STRtree
    from shapely.geometry import Polygon

    rng = np.random.default_rng(seed)
    R, C, cell = layout.rows, layout.cols, layout.cell_m
    jitter = 0.08 * cell
    corners = np.zeros((R + 1, C + 1, 2))
    for i in range(R + 1):
        for j in range(C + 1):
            corners[i, j] = (j * cell + rng.uniform(-jitter, jitter),
                             i * cell + rng.uniform(-jitter, jitter))
    corner_ll = to_lonlat(corners[..., 0].ravel(), corners[..., 1].ravel()).reshape(R + 1, C + 1, 2)

    # Every lattice edge is computed and rounded once; each polygon reuses the same arrays.
    def h_major(i: int) -> bool:  # horizontal line i: a second-level (or street) border?
        return i % layout.block_rows == 0

    def v_major(j: int) -> bool:
        return j % layout.block_cols == 0

    h_edges: dict[tuple[int, int], np.ndarray] = {}
    v_edges: dict[tuple[int, int], np.ndarray] = {}
    for i in range(R + 1):
        for j in range(C):
            mid = _wiggly_edge(rng, corners[i, j], corners[i, j + 1], h_major(i))
            h_edges[i, j] = np.vstack([corner_ll[i, j], to_lonlat(mid[:, 0], mid[:, 1]),
                                       corner_ll[i, j + 1]])
    for i in range(R):
        for j in range(C + 1):
            mid = _wiggly_edge(rng, corners[i, j], corners[i + 1, j], v_major(j))
            v_edges[i, j] = np.vstack([corner_ll[i, j], to_lonlat(mid[:, 0], mid[:, 1]),
                                       corner_ll[i + 1, j]])

    def ring(i0: int, i1: int, j0: int, j1: int) -> np.ndarray:
        """Counter-clockwise ring around cells rows i0..i1-1, columns j0..j1-1."""
        parts = [h_edges[i0, j][:-1] for j in range(j0, j1)]
        parts += [v_edges[i, j1][:-1] for i in range(i0, i1)]
        parts += [h_edges[i1, j][::-1][:-1] for j in reversed(range(j0, j1))]
        parts += [v_edges[i, j0][::-1][:-1] for i in reversed(range(i0, i1))]
        pts = np.vstack(parts)
        return np.vstack([pts, pts[:1]])

    def feature(code: str, name: str, parent: str | None, coords: np.ndarray,
                households: int) -> dict:
        return {
            "type": "Feature",
            "properties": {"code": code, "name": name, "parent_code": parent,
                           "households": households, "leader": f"网格长{code[-4:]}"},
            "geometry": {"type": "Polygon", "coordinates": [coords.tolist()]},
        }

    street_code = "410105001000"
    street_ring = ring(0, R, 0, C)
    features: dict[str, list[dict]] = {"street": [], "second": [], "third": [], "micro": []}
    features["street"].append(
        feature(street_code, "金水区丰产路街道(基准测试)", None, street_ring, 0))
    stats: dict[str, list[int]] = {k: [] for k in features}
    stats["street"].append(len(street_ring) - 1)

    micro_shapes: list[Any] = []
    micro_owner: list[int] = []
    third_polys: list[Any] = []
    for by in range(layout.blocks_y):
        for bx in range(layout.blocks_x):
            sec_code = f"{street_code}{by * layout.blocks_x + bx + 1:02d}"
            i0, j0 = by * layout.block_rows, bx * layout.block_cols
            sec_ring = ring(i0, i0 + layout.block_rows, j0, j0 + layout.block_cols)
            features["second"].append(feature(sec_code, f"第{sec_code[-2:]}社区", street_code,
                                              sec_ring, 0))
            stats["second"].append(len(sec_ring) - 1)
            for di in range(layout.block_rows):
                for dj in range(layout.block_cols):
                    i, j = i0 + di, j0 + dj
                    third_code = f"{sec_code}{di * layout.block_cols + dj + 1:02d}"
                    third_ring = ring(i, i + 1, j, j + 1)
                    households = int(rng.integers(250, 600))
                    features["third"].append(feature(third_code, f"网格{third_code[-4:]}",
                                                     sec_code, third_ring, households))
                    stats["third"].append(len(third_ring) - 1)
                    third_polys.append(Polygon(third_ring))
                    # Micro grids: irregular blobs around points of the cell's bilinear map.
                    p00, p01 = corners[i, j], corners[i, j + 1]
                    p10, p11 = corners[i + 1, j], corners[i + 1, j + 1]

                    def at(u: float, v: float, p00=p00, p01=p01, p10=p10, p11=p11) -> np.ndarray:
                        return ((1 - u) * (1 - v) * p00 + u * (1 - v) * p01
                                + (1 - u) * v * p10 + u * v * p11)

                    mx, my = layout.micro_x, layout.micro_y
                    us = 0.08 + 0.84 * (np.arange(mx) + 0.5) / mx
                    vs = 0.08 + 0.84 * (np.arange(my) + 0.5) / my
                    du, dv = 0.84 / mx, 0.84 / my
                    for b in range(my):
                        for a in range(mx):
                            centre = at(us[a], vs[b])
                            spacing = min(float(np.hypot(*(at(us[a] + du, vs[b]) - centre))),
                                          float(np.hypot(*(at(us[a], vs[b] + dv) - centre))))
                            radius = 0.45 * spacing / 1.27 * rng.uniform(0.8, 1.0)
                            blob = _blob(rng, centre, radius)
                            ll = to_lonlat(blob[:, 0], blob[:, 1])
                            ll = np.vstack([ll, ll[:1]])
                            micro_shapes.append(ll)
                            micro_owner.append(len(third_polys) - 1)

    # Check: every micro grid valid, inside its parent, and no two overlap (shrink otherwise).
    polys = [Polygon(r) for r in micro_shapes]
    bad = [k for k, p in enumerate(polys)
           if not p.is_valid or not third_polys[micro_owner[k]].contains(p)]
    tree = STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    bad += [int(a) for a, b in zip(left, right, strict=True) if a < b]
    if bad:
        raise RuntimeError(f"{len(set(bad))} generated micro grids are invalid, outside their "
                           "parent or overlapping: change the layout")
    counter = 0
    for k, ll in enumerate(micro_shapes):
        parent = features["third"][micro_owner[k]]["properties"]["code"]
        counter = counter + 1 if k and micro_owner[k] == micro_owner[k - 1] else 1
        features["micro"].append(feature(f"{parent}{counter:03d}", f"微网格{parent[-4:]}-{counter}",
                                         parent, ll, int(rng.integers(20, 80))))
        stats["micro"].append(len(ll) - 1)
    for level in ("street", "second", "third"):
        for f in features[level]:
            ring_ = np.asarray(f["geometry"]["coordinates"][0])
            if not shapely.is_valid(Polygon(ring_)):
                raise RuntimeError(f"generated {level} grid {f['properties']['code']} is invalid")
    vertex_stats = {k: {"count": len(v), "min": int(min(v)), "mean": int(np.mean(v)),
                        "max": int(max(v))} for k, v in stats.items()}
    return Street(layout, features, street_ring, corner_ll.reshape(-1, 2), vertex_stats)


def write_street(street: Street, out: Path) -> dict[str, Path]:
    paths = {}
    for level, feats in street.features.items():
        path = out / f"{level}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                                   ensure_ascii=False), encoding="utf-8")
        paths[level] = path
    return paths


# --- cases ------------------------------------------------------------------------------------


def sample_points(street: Street, n: int, rng: np.random.Generator,
                  outside_share: float = 0.01) -> np.ndarray:
    """lon/lat of n case locations: uniform, clustered at hot spots, a few on lattice
    corners (shared by 2-4 grids), and ~outside_share outside the street."""
    import shapely
    from shapely.geometry import Polygon

    lay = street.layout
    width, height = lay.cols * lay.cell_m, lay.rows * lay.cell_m
    n_out = int(round(outside_share * n))
    n_corner = max(1, n // 1000)
    n_cluster = int(0.35 * n)
    n_uniform = n - n_out - n_corner - n_cluster
    street_poly = Polygon(street.street_lonlat)
    shapely.prepare(street_poly)
    spots = rng.uniform([0, 0], [width, height], size=(max(8, lay.cols * lay.rows // 3), 2))
    weights = 1.0 / np.arange(1, len(spots) + 1)
    weights /= weights.sum()
    sigmas = rng.uniform(15, 120, len(spots))

    def inside(make, count: int) -> np.ndarray:
        """count points from make(k) -> metres (k, 2), keeping those inside the street."""
        got, parts = 0, []
        while got < count:
            xy = make(count - got + 16)
            ll = to_lonlat(xy[:, 0], xy[:, 1])
            ll = ll[shapely.contains_xy(street_poly, ll[:, 0], ll[:, 1])][: count - got]
            parts.append(ll)
            got += len(ll)
        return np.vstack(parts)

    def hot(k: int) -> np.ndarray:
        which = rng.choice(len(spots), size=k, p=weights)
        return spots[which] + rng.normal(size=(k, 2)) * sigmas[which][:, None]

    uniform_ll = inside(lambda k: rng.uniform([0, 0], [width, height], size=(k, 2)), n_uniform)
    inside_ll = np.vstack([uniform_ll, inside(hot, n_cluster)])
    corner_ll = street.corners_lonlat[rng.integers(0, len(street.corners_lonlat), n_corner)]
    outside: list[np.ndarray] = []
    got = 0
    while got < n_out:
        cand = rng.uniform([-1500, -1500], [width + 1500, height + 1500], size=(2 * n_out + 16, 2))
        ll = to_lonlat(cand[:, 0], cand[:, 1])
        ll = ll[~shapely.contains_xy(street_poly, ll[:, 0], ll[:, 1])][: n_out - got]
        outside.append(ll)
        got += len(ll)
    pts = np.vstack([inside_ll, corner_ll, *outside])
    return pts[rng.permutation(len(pts))]


def write_cases_csv(street: Street, n: int, path: Path, seed: int) -> dict[str, int]:
    import pandas as pd
    import shapely
    from shapely.geometry import Polygon

    rng = np.random.default_rng(seed + n)
    pts = sample_points(street, n, rng)
    names = [c for c, _ in CATEGORIES]
    w = np.array([x for _, x in CATEGORIES], dtype=float)
    cats = np.asarray(names, dtype=object)[rng.choice(len(names), size=n, p=w / w.sum())]
    start = np.datetime64("2025-01-01T00:00:00")  # a past year: future times are rejected
    secs = np.sort(rng.integers(0, 365 * 86400, n)).astype("timedelta64[s]")
    stamps = np.datetime_as_string(start + secs, unit="s").astype(object) + "+08:00"
    frame = pd.DataFrame({
        "external_id": [f"BENCH{n}-{i:07d}" for i in range(n)],
        "lon": pts[:, 0], "lat": pts[:, 1], "category": cats, "reported_at": stamps,
    })
    frame.to_csv(path, index=False, float_format="%.7f")
    street_poly = Polygon(street.street_lonlat)
    shapely.prepare(street_poly)
    inside = int(shapely.intersects_xy(street_poly, pts[:, 0], pts[:, 1]).sum())
    return {"rows": n, "inside_street": inside, "outside_street": n - inside,
            "bytes": path.stat().st_size}


# --- database helpers ---------------------------------------------------------------------------


def server_url() -> str:
    from onegrid.db.engine import resolve_database_url
    from onegrid.settings import Settings

    return resolve_database_url(Settings(), log=lambda m: say(m))


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def fresh_database(url: str) -> None:
    """Drop and recreate the database `url` names (migrated, with PostGIS)."""
    from onegrid.db.engine import ensure_database

    drop_database(url)
    ensure_database(url, log=lambda m: say(m))


def drop_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(libpq(with_database(url, "postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_grids(url: str, paths: dict[str, Path]) -> dict[str, float]:
    from onegrid.db.engine import make_engine, session_factory
    from onegrid.grids import service

    engine = make_engine(url)
    factory = session_factory(engine)
    timings = {}
    try:
        for level in ("street", "second", "third", "micro"):
            t = time.perf_counter()
            with factory() as session, session.begin():
                report = service.import_grids(
                    session, paths[level], level=level,
                    parent_field=None if level == "street" else "parent_code",
                )
                if report.rejected:
                    first = report.rejected[0]
                    raise RuntimeError(f"{len(report.rejected)} {level} grids rejected, e.g. "
                                       f"{first.code}: {first.reason}")
                service.write_grids(session, level)
            timings[level] = time.perf_counter() - t
            say(f"  {level:6s}: {report.accepted:5d} grids imported in {timings[level]:6.2f} s")
    finally:
        engine.dispose()
    return timings


# --- the product import, in a child process -------------------------------------------------------


def child_import(csv_path: Path, url: str) -> None:
    """What `onegrid import cases FILE --commit` does, timed; JSON result on stdout."""
    os.environ["ONEGRID_DATABASE_URL"] = url
    from onegrid.cases import service
    from onegrid.db.engine import make_engine, session_factory
    from onegrid.settings import get_settings

    settings = get_settings()
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()

    def progress(message: str) -> None:
        now = time.perf_counter()
        marks.append((message, now))
        print(f"    … {now - t0:7.2f}s {message}", file=sys.stderr, flush=True)

    engine = make_engine(url)
    factory = session_factory(engine)
    t0 = time.perf_counter()
    with factory() as session:
        with session.begin():
            report = service.import_cases(
                session, csv_path, boundary_m=settings.on_boundary_m,
                chunk_rows=settings.import_chunk_rows, progress=progress,
            )
            service.write_cases(session, progress=progress)
            marks.append(("written", time.perf_counter()))
    t_end = time.perf_counter()
    engine.dispose()

    def mark(prefix: str) -> float:
        return next(t for m, t in marks if m.startswith(prefix))

    result: dict[str, Any] = {
        "read": report.read, "accepted": report.accepted, "rejected": len(report.rejected),
        "summary": report.summary, "total_s": t_end - t0,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    try:
        t_assign = mark("assigning")
        result["read_stage_s"] = t_assign - t0
        t_write = mark("writing cases")
        result["assign_s"] = t_write - t_assign
        result["insert_s"] = mark("written") - t_write
        result["commit_s"] = t_end - mark("written")
    except StopIteration:
        pass
    print(json.dumps(result, ensure_ascii=False, default=str), flush=True)


def run_import_child(csv_path: Path, url: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child-import", str(csv_path),
           "--url", url]
    t = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"the import child failed with exit code {proc.returncode}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    result["children_maxrss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


# --- baseline --------------------------------------------------------------------------------


BASELINE_UPDATE = """
    UPDATE cases_baseline c SET third_grid_id = g.id
    FROM grids g
    WHERE g.level = 'third' AND ST_Covers(g.geom, c.geom)
"""


def run_baseline(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cases_baseline")
        conn.execute("CREATE TABLE cases_baseline AS SELECT id, geom, NULL::bigint AS third_grid_id"
                     " FROM cases WHERE geom IS NOT NULL")
        conn.execute("CREATE INDEX cases_baseline_geom_idx ON cases_baseline USING gist (geom)")
        conn.execute("VACUUM ANALYZE cases_baseline")
        conn.execute("ANALYZE grids")
        n = conn.execute("SELECT count(*) FROM cases_baseline").fetchone()[0]
        plan = [r[0] for r in conn.execute("EXPLAIN " + BASELINE_UPDATE)]
        t = time.perf_counter()
        with conn.transaction():
            updated = conn.execute(BASELINE_UPDATE).rowcount
        seconds = time.perf_counter() - t
        agree = conn.execute(
            """SELECT count(*) FILTER (WHERE b.third_grid_id IS NOT DISTINCT FROM c.third_grid_id),
                      count(*)
               FROM cases_baseline b JOIN cases c USING (id)"""
        ).fetchone()
    return {"points": n, "updated": updated, "seconds": seconds,
            "cases_per_s": n / seconds if seconds else None, "plan": plan,
            "agree_with_product": agree[0], "compared": agree[1]}


def run_storage_floor(url: str) -> dict[str, Any]:
    """Only storing the product's final rows: no file, no parsing, no assignment.

    ``INSERT INTO <copy of cases, same indexes> SELECT * FROM cases`` runs inside the server,
    so it is cheaper than any import that has to store the rows. Any design's import +
    assignment is slower than this, which bounds the best ratio reachable on this machine.
    """
    import psycopg

    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cases_floor")
        conn.execute("CREATE TABLE cases_floor (LIKE cases INCLUDING ALL)")
        indexes = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'cases_floor'").fetchone()[0]
        t = time.perf_counter()
        with conn.transaction():
            stored = conn.execute("INSERT INTO cases_floor SELECT * FROM cases").rowcount
        seconds = time.perf_counter() - t
        conn.execute("DROP TABLE cases_floor")
    return {"rows": stored, "indexes": indexes, "seconds": seconds,
            "rows_per_s": stored / seconds if seconds else None}


# --- lookups and POST ----------------------------------------------------------------------------


def random_points(street: Street, n: int, seed: int) -> np.ndarray:
    return sample_points(street, n, np.random.default_rng(seed))


def sql_lookup_latency(url: str, pts: np.ndarray, warmup: int = 200) -> dict[str, float]:
    import psycopg

    sql = "SELECT * FROM grid_assignment(ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
    times = []
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for k, (lon, lat) in enumerate(pts):
            t = time.perf_counter()
            conn.execute(sql, (float(lon), float(lat)), prepare=True).fetchall()
            if k >= warmup:
                times.append((time.perf_counter() - t) * 1000)
    return {"n": len(times), "p50_ms": pct(times, 50), "p99_ms": pct(times, 99),
            "max_ms": max(times)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024  # kB -> MiB
    return out


# Benchmark servers sign tokens with this key, so a benchmark can sign its own people in;
# a long run must not see its tokens expire.
SIGNING_KEY = secrets.token_urlsafe(48)
TOKEN_MINUTES = 24 * 60


def server_env(url: str) -> dict[str, str]:
    """The environment of a benchmark's `onegrid serve`."""
    return {**os.environ, "ONEGRID_DATABASE_URL": url, "ONEGRID_SECRET_KEY": SIGNING_KEY,
            "ONEGRID_ACCESS_TOKEN_MINUTES": str(TOKEN_MINUTES)}


def bench_account(session: Any, name: str, role: str, *, grid: str | None = None,
                  unit: str | None = None) -> dict[str, str]:
    """An account made for the benchmark (it has no password) and its bearer header."""
    from onegrid.auth import repository as auth_repo
    from onegrid.auth import service as auth_service
    from onegrid.settings import Settings

    now = datetime.now(UTC)
    user = auth_repo.get_user(session, name) or auth_repo.insert_user(session, {
        "username": name, "display_name": name, "role": role, "unit_code": unit,
        "grid_code": grid, "password_hash": "!", "password_changed_at": now - timedelta(minutes=1),
    })
    settings = Settings(secret_key=SIGNING_KEY, access_token_minutes=TOKEN_MINUTES)
    return {"Authorization": f"Bearer {auth_service.access_token(user, now, settings)}"}


def grid_worker_headers(url: str) -> dict[str, str]:
    """A grid worker of the street's first grid signs in: who reports from a phone."""
    import sqlalchemy as sa

    from onegrid.db.engine import make_engine, session_factory

    engine = make_engine(url)
    try:
        with session_factory(engine)() as session, session.begin():
            grid = session.execute(sa.text(
                "SELECT min(code) FROM grids WHERE valid_to IS NULL"
                " AND level IN ('third', 'micro')")).scalar_one()
            return bench_account(session, "bench-reporter", "grid_worker", grid=grid)
    finally:
        engine.dispose()


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def case_body(lon: float, lat: float, k: int) -> dict[str, Any]:
    return {"lon": round(float(lon), 7), "lat": round(float(lat), 7),
            "category": CATEGORIES[k % len(CATEGORIES)][0], "source": "grid_patrol",
            "reported_at": "2026-12-03T09:30:00+08:00"}


def post_benchmark(url: str, pts: np.ndarray, *, sequential: int, threads: int,
                   duration_s: float) -> dict[str, Any]:
    import httpx

    port = free_port()
    env = server_env(url)
    server_log = open(Path(tempfile.gettempdir()) / f"onegrid-bench-server-{port}.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "onegrid"), "serve", "--port", str(port)],
        env=env, cwd=REPO, stdout=server_log, stderr=subprocess.STDOUT,
    )

    def alive() -> None:
        if server.poll() is not None:
            raise RuntimeError(f"the server (pid {server.pid}) exited with code "
                               f"{server.returncode}; see {server_log.name}")

    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        rss_idle = proc_status(server.pid)
        say(f"  server pid {server.pid} on port {port}, "
            f"RSS {rss_idle['VmRSS']:.0f} MiB after start")

        k = 0
        errors = 0
        reporter = grid_worker_headers(url)
        with httpx.Client(base_url=base, timeout=30, headers=reporter) as client:
            for _ in range(300):  # warm-up: pool connections, plans, code paths
                r = client.post("/api/cases", json=case_body(*pts[k % len(pts)], k))
                errors += r.status_code != 201
                k += 1
            times = []
            for _ in range(sequential):
                body = case_body(*pts[k % len(pts)], k)
                t = time.perf_counter()
                r = client.post("/api/cases", json=body)
                times.append((time.perf_counter() - t) * 1000)
                errors += r.status_code != 201
                k += 1
        seq = {"n": len(times), "p50_ms": pct(times, 50), "p90_ms": pct(times, 90),
               "p99_ms": pct(times, 99), "max_ms": max(times),
               "per_s_one_client": len(times) / (sum(times) / 1000)}
        say(f"  sequential POST x{len(times)}: p50 {seq['p50_ms']:.2f} ms, "
            f"p99 {seq['p99_ms']:.2f} ms, max {seq['max_ms']:.1f} ms "
            f"({seq['per_s_one_client']:.0f}/s from one client)")

        counts = [0] * threads
        fails = [0] * threads
        lat_all: list[list[float]] = [[] for _ in range(threads)]
        done = threading.Event()
        start_gate = threading.Barrier(threads + 1)

        def worker(w: int) -> None:
            rng = np.random.default_rng(1000 + w)
            with httpx.Client(base_url=base, timeout=30, headers=reporter) as c:
                c.get("/api/health")  # open the connection before the clock starts
                start_gate.wait()
                while not done.is_set():
                    lon, lat = pts[int(rng.integers(len(pts)))]
                    t = time.perf_counter()
                    try:
                        r = c.post("/api/cases", json=case_body(lon, lat, w))
                    except httpx.HTTPError:
                        fails[w] += 1
                        if server.poll() is not None:
                            return
                        continue
                    lat_all[w].append((time.perf_counter() - t) * 1000)
                    if r.status_code == 201:
                        counts[w] += 1
                    else:
                        fails[w] += 1

        ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
        for t_ in ts:
            t_.start()
        start_gate.wait()
        t_start = time.perf_counter()
        cpu_start = proc_cpu_s(server.pid)
        time.sleep(duration_s)
        done.set()
        for t_ in ts:
            t_.join()
        elapsed = time.perf_counter() - t_start
        alive()
        server_cpu = proc_cpu_s(server.pid) - cpu_start
        flat = [x for lst in lat_all for x in lst]
        sustained = {"threads": threads, "seconds": elapsed, "ok": sum(counts),
                     "failed": sum(fails), "per_s": sum(counts) / elapsed,
                     "p50_ms": pct(flat, 50), "p99_ms": pct(flat, 99),
                     "server_cpu_ms_per_post": 1000 * server_cpu / max(1, sum(counts) + sum(fails))}
        say(f"  sustained POST, {threads} client threads for {elapsed:.1f} s: "
            f"{sustained['per_s']:.0f} cases/s (p50 {sustained['p50_ms']:.1f} ms, "
            f"p99 {sustained['p99_ms']:.1f} ms, {sustained['failed']} failed); server process "
            f"CPU {sustained['server_cpu_ms_per_post']:.2f} ms per POST (Python side only)")
        rss = proc_status(server.pid)
        say(f"  server RSS after the load: {rss['VmRSS']:.0f} MiB (peak {rss['VmHWM']:.0f} MiB)")
        return {"sequential": seq, "sustained": sustained, "warmup_errors": errors,
                "server_rss_mib": rss["VmRSS"], "server_hwm_mib": rss["VmHWM"],
                "server_rss_idle_mib": rss_idle["VmRSS"]}
    finally:
        server_log.close()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- main ------------------------------------------------------------------------------------


def environment(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(libpq(url), autocommit=True) as conn:
        settings = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in (
            "server_version", "max_parallel_workers_per_gather", "jit", "work_mem",
            "shared_buffers", "synchronous_commit")}
        settings["postgis"] = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
    settings["cpus"] = os.cpu_count()
    settings["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="case counts to import, each in its own run (default: 100000 1000000)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 second, 20 third, 200 micro grids, 20,000 cases")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--posts", type=int, default=3000, help="sequential POSTs to time")
    parser.add_argument("--threads", type=int, default=4, help="client threads, sustained test")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds, sustained test")
    parser.add_argument("--workdir", type=Path, default=None, help="keep generated files here")
    parser.add_argument("--child-import", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_import:
        child_import(args.child_import, args.url)
        return

    layout = QUICK if args.quick else FULL
    sizes = [20_000] if args.quick else sorted(set(args.cases))
    posts = min(args.posts, 1000) if args.quick else args.posts
    duration = min(args.duration, 5.0) if args.quick else args.duration

    say(f"OneGrid assignment benchmark ({'quick' if args.quick else 'full'}): N = {sizes}")
    url = with_database(server_url(), DB_NAME)
    say(f"database {url}")
    fresh_database(url)
    env = environment(url)
    say("environment: " + ", ".join(f"{k}={v}" for k, v in env.items()))

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="onegrid-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    runs: list[dict[str, Any]] = []
    try:
        t = time.perf_counter()
        street = build_street(layout, args.seed)
        paths = write_street(street, workdir)
        say(f"street generated in {time.perf_counter() - t:.1f} s ({workdir}); "
            "vertices per polygon:")
        for level, s in street.vertex_stats.items():
            say(f"  {level:6s}: {s['count']:5d} polygons, vertices min {s['min']}, "
                f"mean {s['mean']}, max {s['max']}")
        say("loading grids with the product import (import_grids + write_grids):")
        grid_times = load_grids(url, paths)
        import psycopg

        with psycopg.connect(libpq(url), autocommit=True) as conn:
            grid_counts = dict(conn.execute(
                "SELECT level, count(*) FROM grids WHERE valid_to IS NULL GROUP BY level"
            ).fetchall())
            pieces = dict(conn.execute(
                "SELECT level, count(*) FROM grid_pieces GROUP BY level").fetchall())
        say(f"grids {grid_counts}; lookup pieces {pieces}; total {sum(grid_times.values()):.1f} s")

        for n in sizes:
            say(f"=== N = {n:,} cases ===")
            with psycopg.connect(libpq(url), autocommit=True) as conn:
                conn.execute("DROP TABLE IF EXISTS cases_baseline")
                conn.execute("TRUNCATE cases RESTART IDENTITY CASCADE")  # events, attachments too
            csv_path = workdir / f"cases_{n}.csv"
            t = time.perf_counter()
            csv_info = write_cases_csv(street, n, csv_path, args.seed)
            say(f"CSV written in {time.perf_counter() - t:.1f} s: {csv_info}")
            say("product import (import_cases + write_cases + commit, child process):")
            imp = run_import_child(csv_path, url)
            cps = imp["accepted"] / imp["total_s"]
            say(f"  {imp['accepted']:,} cases in {imp['total_s']:.2f} s = {cps:,.0f} cases/s "
                f"(child process wall {imp['process_wall_s']:.2f} s incl. Python start-up); "
                f"peak RSS {imp['peak_rss_mib']:.0f} MiB")
            for phase in ("read_stage_s", "assign_s", "insert_s", "commit_s"):
                if phase in imp:
                    rate = imp["accepted"] / imp[phase] if imp[phase] else float("inf")
                    say(f"    {phase[:-2]:11s} {imp[phase]:7.2f} s  ({rate:,.0f} rows/s)")
            say(f"  summary: {imp['summary']}; rejected {imp['rejected']}")
            say("baseline: UPDATE cases_baseline ... FROM grids WHERE level='third' AND ST_Covers:")
            base = run_baseline(url)
            for line in base["plan"]:
                print("      " + line, flush=True)
            say(f"  {base['points']:,} points in {base['seconds']:.2f} s = "
                f"{base['cases_per_s']:,.0f} cases/s; third grid agrees with the product for "
                f"{base['agree_with_product']:,} of {base['compared']:,}")
            say("storage floor: INSERT INTO a copy of cases (same indexes) SELECT * FROM cases:")
            floor = run_storage_floor(url)
            floor_ratio = floor["rows_per_s"] / base["cases_per_s"]
            say(f"  {floor['rows']:,} rows, {floor['indexes']} indexes, in {floor['seconds']:.2f} s"
                f" = {floor['rows_per_s']:,.0f} rows/s = {floor_ratio:.3f} x the baseline: no "
                "import that stores its rows can beat this ratio here")
            ratio = cps / base["cases_per_s"]
            assign_ratio = (imp["accepted"] / imp["assign_s"]) / base["cases_per_s"]
            say(f"  ratio product / baseline = {ratio:.3f} (assignment statement alone: "
                f"{assign_ratio:.3f})")
            runs.append({"cases": n, "csv": csv_info, "import": imp, "cases_per_s": cps,
                         "baseline": {k: v for k, v in base.items() if k != "plan"},
                         "baseline_cases_per_s": base["cases_per_s"], "ratio": ratio,
                         "assign_only_ratio": assign_ratio, "storage_floor": floor,
                         "storage_floor_ratio": floor_ratio})

        say("point lookup in SQL (grid_assignment(pt), one connection, prepared):")
        lookup = sql_lookup_latency(url, random_points(street, 3200, args.seed + 7))
        say(f"  p50 {lookup['p50_ms']:.3f} ms, p99 {lookup['p99_ms']:.3f} ms over {lookup['n']}")

        say("POST /api/cases on the real server (onegrid serve):")
        post = post_benchmark(url, random_points(street, 20_000, args.seed + 11),
                              sequential=posts, threads=args.threads, duration_s=duration)
        last = runs[-1]
        result = {
            "cases": last["cases"],
            "cases_per_s": round(last["cases_per_s"], 1),
            "baseline_cases_per_s": round(last["baseline_cases_per_s"], 1),
            "ratio": round(last["ratio"], 3),
            "assign_only_ratio": round(last["assign_only_ratio"], 3),
            "storage_floor_rows_per_s": round(last["storage_floor"]["rows_per_s"], 1),
            "storage_floor_ratio": round(last["storage_floor_ratio"], 3),
            "post_p50_ms": round(post["sequential"]["p50_ms"], 3),
            "post_p99_ms": round(post["sequential"]["p99_ms"], 3),
            "post_per_s": round(post["sustained"]["per_s"], 1),
            "post_server_cpu_ms": round(post["sustained"]["server_cpu_ms_per_post"], 3),
            "import_peak_rss_mib": round(last["import"]["peak_rss_mib"], 1),
            "server_rss_mib": round(post["server_rss_mib"], 1),
            "lookup_p50_ms": round(lookup["p50_ms"], 3),
            "lookup_p99_ms": round(lookup["p99_ms"], 3),
            "grid_counts": grid_counts,
            "grid_pieces": pieces,
            "grid_vertices": street.vertex_stats,
            "grid_import_s": {k: round(v, 2) for k, v in grid_times.items()},
            "import_phases_s": {k: round(last["import"][k], 2) for k in
                                ("read_stage_s", "assign_s", "insert_s", "commit_s")
                                if k in last["import"]},
            "post": post,
            "runs": runs,
            "quick": args.quick,
            "env": {**env, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        }
    finally:
        if not args.keep:
            try:
                drop_database(url)
            except Exception as exc:  # noqa: BLE001 - report, never mask the real error
                say(f"could not drop {DB_NAME}: {exc}")
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, default=str), flush=True)


if __name__ == "__main__":
    main()
