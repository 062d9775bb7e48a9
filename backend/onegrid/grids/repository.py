"""Spatial SQL for grids: staging an import, topology checks, versions, lookup pieces.

Repositories never commit: the caller owns the transaction (a dry run rolls it back).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope, case_condition, grid_condition
from onegrid.db.base import ASSIGNMENT_COLUMNS

# The column of the case table that holds its grid of each level.
CASE_GRID_COLUMN = {
    "street": "street_grid_id",
    "second": "second_grid_id",
    "third": "third_grid_id",
    "micro": "micro_grid_id",
    "dedicated": "dedicated_grid_id",
}

# --- staging --------------------------------------------------------------------------------

CREATE_STAGING = sa.text(
    """
    CREATE TEMP TABLE grid_import (
        idx integer PRIMARY KEY,
        code text NOT NULL,
        name text NOT NULL,
        parent_code text,
        households integer,
        leader text,
        unit_name text,
        properties jsonb NOT NULL,
        geom geometry(MultiPolygon, 4326) NOT NULL,
        parent_id bigint,
        replaces_id bigint
    ) ON COMMIT DROP
    """
)

INSERT_STAGING = sa.text(
    """
    INSERT INTO grid_import (idx, code, name, parent_code, households, leader, unit_name,
                             properties, geom)
    VALUES (:idx, :code, :name, :parent_code, :households, :leader, :unit_name,
            CAST(:properties AS jsonb), ST_GeomFromWKB(:geom_wkb, 4326))
    """
)


def lock_grid_changes(session: Session) -> None:
    """Grid imports take turns: each checks the hierarchy as the previous one left it.

    A transaction-level advisory lock, released by the commit or rollback of the import."""
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('onegrid:grids'))"))


def stage_grids(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    session.execute(sa.text("DROP TABLE IF EXISTS grid_import"))
    session.execute(CREATE_STAGING)
    batch = [
        {**row, "properties": json.dumps(row["properties"], ensure_ascii=False)} for row in rows
    ]
    if batch:
        session.execute(INSERT_STAGING, batch)
    session.execute(sa.text("CREATE INDEX ON grid_import USING gist (geom)"))
    session.execute(sa.text("ANALYZE grid_import"))


def mark_replaced_versions(session: Session, level: str) -> list[tuple[int, str, str]]:
    """Link staged grids to the current version they replace; return codes used at another level."""
    session.execute(
        sa.text(
            """
            UPDATE grid_import s SET replaces_id = g.id
            FROM grids g WHERE g.code = s.code AND g.valid_to IS NULL AND g.level = :level
            """
        ),
        {"level": level},
    )
    clashes = session.execute(
        sa.text(
            """
            SELECT s.idx, s.code, g.level FROM grid_import s
            JOIN grids g ON g.code = s.code AND g.valid_to IS NULL AND g.level <> :level
            ORDER BY s.idx
            """
        ),
        {"level": level},
    )
    return [(r.idx, r.code, r.level) for r in clashes]


def count_current(session: Session, level: str) -> int:
    return (
        session.scalar(
            sa.text("SELECT count(*) FROM grids WHERE level = :level AND valid_to IS NULL"),
            {"level": level},
        )
        or 0
    )


def resolve_parents_by_code(session: Session, parent_level: str) -> list[tuple[int, str, str]]:
    """Set parent_id from the parent's code; return staged grids whose parent code is unknown."""
    session.execute(
        sa.text(
            """
            UPDATE grid_import s SET parent_id = g.id
            FROM grids g
            WHERE g.code = s.parent_code AND g.level = :parent_level AND g.valid_to IS NULL
            """
        ),
        {"parent_level": parent_level},
    )
    missing = session.execute(
        sa.text(
            "SELECT idx, code, parent_code FROM grid_import WHERE parent_id IS NULL ORDER BY idx"
        )
    )
    return [(r.idx, r.code, r.parent_code) for r in missing]


# A grid's parent, found spatially, is the current grid of the parent level that shares the
# most area with it; "most area" rather than "covers" so that a child poking out a little is
# still matched and then reported with the size of the part outside.
RESOLVE_PARENTS_SPATIALLY = sa.text(
    """
    UPDATE grid_import s SET parent_id = best.id
    FROM (
        SELECT DISTINCT ON (s2.idx) s2.idx, g.id
        FROM grid_import s2
        JOIN grids g ON g.level = :parent_level AND g.valid_to IS NULL
                    AND g.geom && s2.geom AND ST_Intersects(g.geom, s2.geom)
        ORDER BY s2.idx, ST_Area(ST_Intersection(g.geom, s2.geom)) DESC, g.code
    ) best
    WHERE best.idx = s.idx
    """
)


def resolve_parents_spatially(session: Session, parent_level: str) -> list[tuple[int, str]]:
    session.execute(RESOLVE_PARENTS_SPATIALLY, {"parent_level": parent_level})
    orphans = session.execute(
        sa.text("SELECT idx, code FROM grid_import WHERE parent_id IS NULL ORDER BY idx")
    )
    return [(r.idx, r.code) for r in orphans]


# Area outside the parent, in square metres (geography), for every staged grid that pokes out.
OUTSIDE_PARENT = sa.text(
    """
    SELECT s.idx, s.code, p.code AS parent_code, outside.m2
    FROM grid_import s
    JOIN grids p ON p.id = s.parent_id
    CROSS JOIN LATERAL (
        SELECT ST_Area(ST_Difference(s.geom, p.geom)::geography) AS m2
        WHERE NOT ST_CoveredBy(s.geom, p.geom)) outside
    WHERE outside.m2 > :tolerance_m2
    ORDER BY s.idx
    """
)


def grids_outside_parent(
    session: Session, tolerance_m2: float
) -> list[tuple[int, str, str, float]]:
    rows = session.execute(OUTSIDE_PARENT, {"tolerance_m2": tolerance_m2})
    return [(r.idx, r.code, r.parent_code, r.m2) for r in rows]


# Interiors meeting in 2D ('2********'), among the staged grids and against current grids of
# the same level that the import does not replace. Areas in square metres.
SIBLING_OVERLAPS = sa.text(
    """
    WITH others AS (
        SELECT g.code, g.geom FROM grids g
        WHERE g.level = :level AND g.valid_to IS NULL
          AND g.id NOT IN (SELECT replaces_id FROM grid_import WHERE replaces_id IS NOT NULL)
    )
    SELECT b.idx, b.code, a.code AS other_code, overlap.m2
    FROM grid_import b
    JOIN grid_import a ON a.idx < b.idx AND a.geom && b.geom
    CROSS JOIN LATERAL (SELECT ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS m2) overlap
    WHERE ST_Relate(a.geom, b.geom, '2********') AND overlap.m2 > :tolerance_m2
    UNION ALL
    SELECT b.idx, b.code, o.code, overlap.m2
    FROM grid_import b
    JOIN others o ON o.geom && b.geom
    CROSS JOIN LATERAL (SELECT ST_Area(ST_Intersection(o.geom, b.geom)::geography) AS m2) overlap
    WHERE ST_Relate(o.geom, b.geom, '2********') AND overlap.m2 > :tolerance_m2
    ORDER BY 1, 3
    """
)


def sibling_overlaps(
    session: Session, level: str, tolerance_m2: float
) -> list[tuple[int, str, str, float]]:
    rows = session.execute(SIBLING_OVERLAPS, {"level": level, "tolerance_m2": tolerance_m2})
    return [(r.idx, r.code, r.other_code, r.m2) for r in rows]


# A new boundary version must still hold the children of the version it replaces.
CHILDREN_LEFT_OUTSIDE = sa.text(
    """
    SELECT s.idx, child.code AS child_code,
           ST_Area(ST_Difference(child.geom, s.geom)::geography) AS m2
    FROM grid_import s
    JOIN grids child ON child.parent_id = s.replaces_id AND child.valid_to IS NULL
                    AND child.level <> 'dedicated'
    WHERE NOT ST_CoveredBy(child.geom, s.geom)
      AND ST_Area(ST_Difference(child.geom, s.geom)::geography) > :tolerance_m2
    ORDER BY s.idx, child.code
    """
)


def children_left_outside(session: Session, tolerance_m2: float) -> list[tuple[int, str, float]]:
    rows = session.execute(CHILDREN_LEFT_OUTSIDE, {"tolerance_m2": tolerance_m2})
    return [(r.idx, r.child_code, r.m2) for r in rows]


# A re-imported grid with the same boundary (within a centimetre: coordinates that went
# through a GCJ-02 round trip differ in the ninth decimal), name, leader, households, unit
# and parent is no new version; other attributes it carries are updated in place.
SAME_GRID = """
    g.id = s.replaces_id AND g.name = s.name
    AND g.households IS NOT DISTINCT FROM s.households
    AND g.leader IS NOT DISTINCT FROM s.leader
    AND g.unit_name IS NOT DISTINCT FROM s.unit_name
    AND g.parent_id IS NOT DISTINCT FROM s.parent_id
    AND ST_HausdorffDistance(g.geom, s.geom) < 1e-7
"""
UPDATE_UNCHANGED = sa.text(
    f"UPDATE grids g SET properties = s.properties FROM grid_import s WHERE {SAME_GRID}"
)
DROP_UNCHANGED = sa.text(
    f"DELETE FROM grid_import s USING grids g WHERE {SAME_GRID} RETURNING s.idx"
)


def drop_unchanged(session: Session) -> int:
    session.execute(UPDATE_UNCHANGED)
    return len(session.execute(DROP_UNCHANGED).all())


def drop_staged(session: Session, indexes: Sequence[int]) -> None:
    if indexes:
        session.execute(
            sa.text("DELETE FROM grid_import WHERE idx = ANY(:idx)"), {"idx": list(indexes)}
        )


def staged_summary(session: Session) -> dict[str, int]:
    row = session.execute(
        sa.text(
            "SELECT count(*) AS total, count(replaces_id) AS replacing,"
            " count(*) - count(replaces_id) AS new FROM grid_import"
        )
    ).one()
    return {"total": row.total, "new": row.new, "replacing": row.replacing}


def write_staged_grids(session: Session, level: str) -> int:
    """Close the versions being replaced, insert the new ones, and move children over."""
    session.execute(
        sa.text(
            """
            UPDATE grids g SET valid_to = now()
            FROM grid_import s WHERE g.id = s.replaces_id
            """
        )
    )
    inserted = session.execute(
        sa.text(
            """
            INSERT INTO grids (code, name, level, parent_id, households, leader, unit_name,
                               properties, geom, version, valid_from)
            SELECT s.code, s.name, :level, s.parent_id, s.households, s.leader, s.unit_name,
                   s.properties, s.geom, coalesce(old.version, 0) + 1, now()
            FROM grid_import s LEFT JOIN grids old ON old.id = s.replaces_id
            ORDER BY s.idx
            RETURNING id, code
            """
        ),
        {"level": level},
    ).all()
    # Children of a replaced version now hang under the new version of the same code.
    session.execute(
        sa.text(
            """
            UPDATE grids child SET parent_id = g.id
            FROM grid_import s JOIN grids g ON g.code = s.code AND g.valid_to IS NULL
            WHERE child.parent_id = s.replaces_id AND child.valid_to IS NULL
            """
        )
    )
    return len(inserted)


# --- lookup structures -----------------------------------------------------------------------

# Each current grid's chain of ancestors per level, its depth, and its code path (the
# tie-break key), walked down from the roots. Dedicated grids stand alone.
REFRESH_CHAIN = sa.text(
    """
    WITH RECURSIVE chain AS (
        SELECT g.id, g.level, g.code::text AS sort_key,
               CASE WHEN g.level = 'street' THEN g.id END AS street_id,
               CASE WHEN g.level = 'second' THEN g.id END AS second_id,
               CASE WHEN g.level = 'third' THEN g.id END AS third_id,
               CASE WHEN g.level = 'micro' THEN g.id END AS micro_id
        FROM grids g
        WHERE g.valid_to IS NULL
          AND (g.parent_id IS NULL OR g.level = 'dedicated'
               OR NOT EXISTS (SELECT 1 FROM grids p
                              WHERE p.id = g.parent_id AND p.valid_to IS NULL))
        UNION ALL
        SELECT g.id, g.level, c.sort_key || '/' || g.code,
               coalesce(c.street_id, CASE WHEN g.level = 'street' THEN g.id END),
               coalesce(c.second_id, CASE WHEN g.level = 'second' THEN g.id END),
               coalesce(c.third_id, CASE WHEN g.level = 'third' THEN g.id END),
               coalesce(c.micro_id, CASE WHEN g.level = 'micro' THEN g.id END)
        FROM grids g JOIN chain c ON g.parent_id = c.id
        WHERE g.valid_to IS NULL AND g.level <> 'dedicated' AND c.level <> 'dedicated'
    )
    INSERT INTO grid_chain (grid_id, level, depth, sort_key, street_id, second_id, third_id,
                            micro_id)
    SELECT id, level,
           CASE level WHEN 'street' THEN 0 WHEN 'second' THEN 1 WHEN 'third' THEN 2
                      WHEN 'micro' THEN 3 ELSE -1 END,
           sort_key, street_id, second_id, third_id, micro_id
    FROM chain
    """
)

REFRESH_PIECES = sa.text(
    """
    INSERT INTO grid_pieces (grid_id, level, depth, sort_key, geom)
    SELECT c.grid_id, c.level, c.depth, c.sort_key, ST_Subdivide(g.geom, :max_vertices)
    FROM grid_chain c JOIN grids g ON g.id = c.grid_id
    """
)

# The band is buffered on the geography (metres, in a best-fit projection PostGIS picks),
# then cut like the pieces so that membership is a cheap point-in-polygon test.
REFRESH_BANDS = sa.text(
    """
    INSERT INTO grid_bands (grid_id, band_m, geom)
    SELECT g.id, :band_m,
           ST_Subdivide(ST_Buffer(ST_Boundary(g.geom)::geography, :band_m)::geometry,
                        :max_vertices)
    FROM grids g WHERE g.valid_to IS NULL
    """
)

MAX_PIECE_VERTICES = 64


def refresh_lookup(session: Session, band_m: float) -> int:
    """Rebuild chains, pieces and bands of all current grids; returns the piece count."""
    session.execute(sa.text("DELETE FROM grid_pieces"))
    session.execute(sa.text("DELETE FROM grid_chain"))
    session.execute(REFRESH_CHAIN)
    session.execute(REFRESH_PIECES, {"max_vertices": MAX_PIECE_VERTICES})
    session.execute(sa.text("ANALYZE grid_pieces"))
    session.execute(sa.text("ANALYZE grid_chain"))
    refresh_bands(session, band_m)
    return session.scalar(sa.text("SELECT count(*) FROM grid_pieces")) or 0


def refresh_bands(session: Session, band_m: float) -> None:
    session.execute(sa.text("DELETE FROM grid_bands"))
    session.execute(REFRESH_BANDS, {"band_m": band_m, "max_vertices": MAX_PIECE_VERTICES})
    session.execute(sa.text("ANALYZE grid_bands"))


def ensure_bands(session: Session, band_m: float) -> None:
    """Rebuild the boundary bands when they were made for another width."""
    widths = session.execute(sa.text("SELECT DISTINCT band_m FROM grid_bands")).scalars().all()
    if widths != [band_m] and session.scalar(
        sa.text("SELECT EXISTS (SELECT 1 FROM grids WHERE valid_to IS NULL)")
    ):
        refresh_bands(session, band_m)


# --- reading --------------------------------------------------------------------------------

GRID_COLUMNS = """
    g.id, g.code, g.name, g.level, p.code AS parent_code, g.households, g.leader, g.unit_name,
    g.version, g.valid_from, g.properties
"""


def list_grids(
    session: Session,
    *,
    scope: Scope,
    level: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    code: str | None = None,
    with_case_counts: bool = True,
) -> list[dict[str, Any]]:
    """Current grids `scope` sees, as dicts with a GeoJSON geometry, and the number of its
    cases in each (filters compose; all optional)."""
    grids_seen, params = grid_condition(scope)
    where = ["g.valid_to IS NULL", grids_seen]
    if level:
        where.append("g.level = :level")
        params["level"] = level
    if code:
        where.append("g.code = :code")
        params["code"] = code
    if bbox:
        where.append("g.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        params.update(dict(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True)))
    counts_cte, counts_join, count_columns = "", "", ""
    if with_case_counts:
        # One pass over the cases, grouped by grid code: each case names one grid per level,
        # so it counts once (never once per overlapping polygon), and the cases assigned
        # under earlier boundary versions of a code still count for it.
        levels = [level] if level else list(CASE_GRID_COLUMN)
        only_code = " AND {col} IN (SELECT id FROM grids WHERE code = :code)" if code else ""
        cases_seen, case_params = case_condition(scope)
        params.update(case_params)
        per_level = " UNION ALL ".join(
            f"SELECT {CASE_GRID_COLUMN[lv]} AS grid_id, status FROM cases c"
            f" WHERE {CASE_GRID_COLUMN[lv]} IS NOT NULL AND {cases_seen}"
            + only_code.format(col=CASE_GRID_COLUMN[lv])
            for lv in levels
        )
        counts_cte = f"""
            WITH counts AS (
                SELECT v.code, count(*) AS case_count,
                       count(*) FILTER (WHERE c.status NOT IN ('closed', 'voided'))
                           AS open_case_count
                FROM ({per_level}) c JOIN grids v ON v.id = c.grid_id
                GROUP BY v.code)"""
        counts_join = "LEFT JOIN counts n ON n.code = g.code"
        count_columns = (
            ", coalesce(n.case_count, 0) AS case_count,"
            " coalesce(n.open_case_count, 0) AS open_case_count"
        )
    sql = f"""
        {counts_cte}
        SELECT {GRID_COLUMNS}, ST_AsGeoJSON(g.geom, 7)::json AS geometry {count_columns}
        FROM grids g LEFT JOIN grids p ON p.id = g.parent_id {counts_join}
        WHERE {" AND ".join(where)}
        ORDER BY g.level, g.code
    """
    return [dict(r._mapping) for r in session.execute(sa.text(sql), params)]


def grid_codes(session: Session, ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(
        sa.text("SELECT id, code, name, level FROM grids WHERE id = ANY(:ids)"), {"ids": wanted}
    )
    return {r.id: dict(r._mapping) for r in rows}


def coverage_extent(session: Session) -> tuple[float, float, float, float] | None:
    row = session.execute(
        sa.text(
            "SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy"
            " FROM (SELECT ST_Extent(geom) AS e FROM grids WHERE valid_to IS NULL) x"
        )
    ).one()
    if row.minx is None:
        return None
    return (row.minx, row.miny, row.maxx, row.maxy)


def counts_by_level(session: Session) -> dict[str, int]:
    rows = session.execute(
        sa.text("SELECT level, count(*) AS n FROM grids WHERE valid_to IS NULL GROUP BY level")
    )
    return {r.level: r.n for r in rows}


# --- assignment --------------------------------------------------------------------------


ASSIGN_POINT = sa.text(
    f"SELECT {ASSIGNMENT_COLUMNS} FROM grid_assignment(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
)


def assign_point(session: Session, lon: float, lat: float) -> dict[str, Any]:
    return dict(session.execute(ASSIGN_POINT, {"lon": lon, "lat": lat}).one()._mapping)


# Many points at once: the same decision as grid_assignment(), but gathered with one join
# driven by the grid pieces (each piece's prepared polygon then serves every point under it,
# where per-point lookups would rebuild it point after point), and the same for the bands.
# `points` is a table (row_no, geom) with a GiST index on geom. The lateral subquery with
# OFFSET 0 keeps the pieces on the outside: with many points the planner would otherwise turn
# the join around into one index probe per point, three times slower at a million.
POINTS_UNDER = """(SELECT pt.row_no FROM {points} pt
                  WHERE ST_Covers({polygons}.geom, pt.geom) OFFSET 0)"""
GATHER_HITS = """
    CREATE UNLOGGED TABLE {hits} AS
    SELECT h.row_no, f.grid_id AS finest_id, d.grid_id AS dedicated_id, h.covering
    FROM (SELECT pt.row_no,
                 min(tie_break_key(p.depth, p.sort_key)) FILTER (WHERE p.depth >= 0)
                     AS finest_key,
                 min(p.sort_key) FILTER (WHERE p.depth < 0) AS dedicated_key,
                 array_agg(p.grid_id) AS covering
          FROM grid_pieces p CROSS JOIN LATERAL {points_under_piece} pt
          GROUP BY pt.row_no) h
    LEFT JOIN grid_chain f ON f.sort_key = substr(h.finest_key, 2)
    LEFT JOIN grid_chain d ON d.sort_key = h.dedicated_key
"""

GATHER_NEAR = """
    CREATE UNLOGGED TABLE {near} AS
    SELECT pt.row_no, array_agg(b.grid_id) AS near
    FROM grid_bands b CROSS JOIN LATERAL {points_under_band} pt
    GROUP BY pt.row_no
"""


def gather_assignment_inputs(session: Session, points: str, hits: str, near: str) -> None:
    """Fill `hits` and `near` (keyed by row_no) for every point of the `points` table."""
    under_piece = POINTS_UNDER.format(points=points, polygons="p")
    under_band = POINTS_UNDER.format(points=points, polygons="b")
    session.execute(sa.text(GATHER_HITS.format(points_under_piece=under_piece, hits=hits)))
    session.execute(sa.text(GATHER_NEAR.format(points_under_band=under_band, near=near)))
