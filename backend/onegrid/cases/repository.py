"""Spatial SQL for cases: bulk staging with COPY, set-based assignment, one-case insert, reads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope, case_condition
from onegrid.cases import workflow
from onegrid.db.base import ASSIGNMENT_COLUMNS, ASSIGNMENT_FROM_A
from onegrid.grids import repository as grids_repo

STAGING_TABLE = "case_import"
STAGING_COLUMNS = (
    "row_no",
    "external_id",
    "category",
    "category_code",
    "description",
    "source",
    "status",
    "reported_us",
    "lon",
    "lat",
    "raw_x",
    "raw_y",
    "raw_crs",
    "location_note",
)

# Unlogged tables (no WAL: they are scratch) created inside the import's transaction, so a
# rollback (dry run or failure) removes them.
SCRATCH_TABLES = (STAGING_TABLE, "case_points", "case_hits", "case_near", "case_assigned")
CREATE_STAGING = f"""
    CREATE UNLOGGED TABLE {STAGING_TABLE} (
        row_no integer NOT NULL,
        external_id text NOT NULL,
        category text,
        category_code text,
        description text,
        source text,
        status text,
        reported_us bigint,  -- microseconds since 1970 UTC: formatting times is slow in Python
        lon double precision,
        lat double precision,
        raw_x double precision,
        raw_y double precision,
        raw_crs text,
        location_note text
    )
"""


def create_staging(session: Session) -> None:
    session.execute(sa.text(f"DROP TABLE IF EXISTS {', '.join(SCRATCH_TABLES)}"))
    session.execute(sa.text(CREATE_STAGING))


def copy_into_staging(session: Session, frame: pd.DataFrame) -> int:
    """Stream a chunk (columns STAGING_COLUMNS) into the staging table with COPY ... CSV.

    pandas writes the CSV in C and PostgreSQL parses it in C: an order of magnitude faster
    than handing over the rows one Python tuple at a time.
    """
    raw = session.connection().connection.driver_connection
    assert raw is not None, "COPY needs a live psycopg connection"
    buffer = io.StringIO()
    frame.to_csv(
        buffer,
        columns=list(STAGING_COLUMNS),
        header=False,
        index=False,
        date_format="%Y-%m-%dT%H:%M:%S%z",
        float_format="%.9f",
    )
    with (
        raw.cursor() as cur,
        cur.copy(
            f"COPY {STAGING_TABLE} ({', '.join(STAGING_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy,
    ):
        copy.write(buffer.getvalue())
    return len(frame)


def remove_stored_ids(session: Session) -> list[tuple[int, str]]:
    """Rows whose external id is already stored: removed from staging and returned."""
    rows = session.execute(
        sa.text(
            f"""
            DELETE FROM {STAGING_TABLE} s USING cases c
            WHERE c.external_id = s.external_id
            RETURNING s.row_no, s.external_id
            """
        )
    ).all()
    return sorted((r.row_no, r.external_id) for r in rows)


CASE_FIELDS = (
    "external_id",
    "category",
    "category_code",
    "description",
    "source",
    "status",
    "reported_at",
    "geom",
    "raw_x",
    "raw_y",
    "raw_crs",
    "location_note",
)

STAGED_POINTS = f"""
    CREATE UNLOGGED TABLE case_points AS
    SELECT row_no, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
    FROM {STAGING_TABLE} WHERE lon IS NOT NULL AND lat IS NOT NULL
"""

# Finished cases (closed, evaluated, voided, merged), as an SQL list from the workflow.
FINISHED_STATES = ", ".join(f"'{s}'" for s in sorted(workflow.FINISHED))

# A file's own status words are kept in properties.source_status; the workflow state is
# the word itself when it is one, closed for the usual "closed" words, else reported.
WORKFLOW_STATES = ", ".join(f"'{s}'" for s in workflow.STATUSES)
STATUS_FROM_FILE = f"""CASE WHEN s.status IS NULL THEN 'reported'
         WHEN s.status IN ({WORKFLOW_STATES}) THEN s.status
         WHEN lower(btrim(s.status)) IN ({", ".join(f"'{w}'" for w in workflow.CLOSED_WORDS)})
         THEN 'closed'
         ELSE 'reported' END"""

# The decision itself is assignment_from(), the function single reports use too.
ASSIGN_STAGED = f"""
    CREATE UNLOGGED TABLE case_assigned AS
    SELECT s.external_id, s.category, s.category_code, s.description, s.source,
           {STATUS_FROM_FILE} AS status,
           CASE WHEN s.status IS NOT NULL AND s.status NOT IN ({WORKFLOW_STATES})
                THEN jsonb_build_object('source_status', s.status) ELSE '{{}}' END
               AS properties,
           timestamptz 'epoch' + s.reported_us * interval '1 microsecond' AS reported_at, p.geom,
           s.raw_x, s.raw_y, s.raw_crs, s.location_note,
           {ASSIGNMENT_FROM_A}
    FROM {STAGING_TABLE} s
    LEFT JOIN case_hits h ON h.row_no = s.row_no
    LEFT JOIN case_near n ON n.row_no = s.row_no
    CROSS JOIN LATERAL (SELECT CASE WHEN s.lon IS NOT NULL AND s.lat IS NOT NULL
                                    THEN ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) END AS geom) p
    CROSS JOIN LATERAL assignment_from(p.geom, h.finest_id, h.dedicated_id, h.covering,
                                       n.near) a
"""

INSERT_ASSIGNED = f"""
    INSERT INTO cases ({", ".join(CASE_FIELDS)}, properties, {ASSIGNMENT_COLUMNS}, assigned_at)
    SELECT {", ".join(CASE_FIELDS)}, properties, {ASSIGNMENT_COLUMNS}, now()
    FROM case_assigned
"""

ASSIGNED_SUMMARY = """
    SELECT count(*) AS cases,
           count(*) FILTER (WHERE geom IS NULL) AS without_location,
           count(*) FILTER (WHERE outside_coverage) AS outside_coverage,
           count(*) FILTER (WHERE on_boundary) AS on_boundary,
           count(*) FILTER (WHERE assignment_rule = 'shared_boundary_tiebreak') AS tie_broken
    FROM case_assigned
"""


def assign_staged(session: Session) -> dict[str, int]:
    """Assign every staged case in a few set-based statements; returns the counts."""
    # JIT compiling these plans costs more than it saves at any size seen here, and the
    # sorts of a million-point import fit in memory at 256 MB instead of spilling to disk.
    session.execute(sa.text("SET LOCAL jit = off"))
    session.execute(sa.text("SET LOCAL work_mem = '256MB'"))
    session.execute(sa.text(STAGED_POINTS))
    session.execute(sa.text("CREATE INDEX ON case_points USING gist (geom)"))
    session.execute(sa.text("ANALYZE case_points"))
    grids_repo.gather_assignment_inputs(session, "case_points", "case_hits", "case_near")
    session.execute(sa.text(ASSIGN_STAGED))
    return dict(session.execute(sa.text(ASSIGNED_SUMMARY)).one()._mapping)


def insert_assigned(session: Session) -> int:
    result = cast(sa.CursorResult, session.execute(sa.text(INSERT_ASSIGNED)))
    session.execute(sa.text(f"DROP TABLE IF EXISTS {', '.join(SCRATCH_TABLES)}"))
    return result.rowcount or 0


# --- reading --------------------------------------------------------------------------------

# Grid codes per level come from the ids stored on the case: one join per level, never a
# spatial join at read time (which would multiply rows where grids nest or overlap).
CASE_SELECT = """
    SELECT c.id, c.external_id, c.category, c.category_code, c.description, c.source, c.status,
           c.reported_at, c.created_at, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat,
           c.raw_x, c.raw_y, c.raw_crs, c.location_note,
           gs.code AS street_code, g2.code AS second_code, g3.code AS third_code,
           gm.code AS micro_code, gd.code AS dedicated_code,
           gr.code AS responsible_code, gr.level AS responsible_level, gr.name AS responsible_name,
           c.assignment_rule, c.on_boundary, c.outside_coverage,
           gn.code AS nearest_code, c.nearest_m,
           c.version, c.urgent, c.reporter, c.unit_code, u.name AS unit_name, c.dispatch_rule,
           c.step, c.step_basis, c.step_started_at, c.step_length_s, c.warn_at, c.due_at,
           c.parked_from, c.parked_remaining_s, c.extension_requested, c.filed_at,
           c.dispatched_at, c.reported_back_at, c.closed_at, c.late_steps, c.rework_count,
           c.extension_count, c.escalated, c.satisfaction, c.merged_into, c.properties
    FROM {source} c
    LEFT JOIN units u ON u.code = c.unit_code
    LEFT JOIN grids gs ON gs.id = c.street_grid_id
    LEFT JOIN grids g2 ON g2.id = c.second_grid_id
    LEFT JOIN grids g3 ON g3.id = c.third_grid_id
    LEFT JOIN grids gm ON gm.id = c.micro_grid_id
    LEFT JOIN grids gd ON gd.id = c.dedicated_grid_id
    LEFT JOIN grids gr ON gr.id = c.responsible_grid_id
    LEFT JOIN grids gn ON gn.id = c.nearest_grid_id
"""
CASES = CASE_SELECT.format(source="cases")

# A box around a point that holds every point within :radius_m metres, so the plain GiST
# index on geom finds the candidates; the distance itself is then measured on the spheroid.
# A degree of latitude is at least 110.5 km; a degree of longitude shrinks with cos(lat).
NEAR_BOX = (
    "ST_Expand({point}, {radius} / (110500 * greatest(cos(radians(ST_Y({point}))), 0.01)),"
    " {radius} / 110500.0)"
)

# Same category, open, within a radius in metres (on the spheroid, never degrees) and a time
# window around the report: a JSON list, so a new report gets them in the same round trip.
# Inside the INSERT statement `cases` is the table before the new row, so it never lists
# itself.
DUPLICATES_OF_X = f"""
    SELECT coalesce(json_agg(dup ORDER BY dup.distance_m, dup.id), '[]')
    FROM (SELECT d.id, d.external_id, d.category, d.status, d.reported_at,
                 round(ST_Distance(d.geom::geography, pt.g)::numeric, 1) AS distance_m
          FROM (SELECT ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326) AS p) q
          CROSS JOIN LATERAL (SELECT q.p::geography AS g) pt
          JOIN cases d ON d.geom && {NEAR_BOX.format(point="q.p", radius=":dup_radius_m")}
                      AND ST_DWithin(d.geom::geography, pt.g, :dup_radius_m)
          WHERE d.status NOT IN ({FINISHED_STATES})
            AND (d.category_code = x.category_code
                 OR (x.category_code IS NULL AND d.category_code IS NULL
                     AND d.category = x.category))
            AND d.reported_at BETWEEN x.reported_at - :dup_window AND x.reported_at + :dup_window
          ORDER BY distance_m, d.id LIMIT 20) dup
"""


def _compact(sql: str) -> str:
    """The statement without its indentation: psycopg caches the parsing of statements up to
    4 KB only, and the one a phone waits for should stay under that."""
    return "\n".join(line.strip() for line in sql.splitlines() if line.strip())


# One new case: insert, assign, write its first event and read it back with the grid codes,
# in a single statement and one round trip (the phone waits for this).
WORKFLOW_FIELDS = (
    "urgent",
    "reporter",
    "reporter_user_id",
    "follow_token_sha256",
    "step",
    "step_basis",
    "step_started_at",
    "step_length_s",
    "warn_at",
    "due_at",
)
INSERT_ONE = sa.text(
    _compact(
        f"""
    WITH new_case AS (
        INSERT INTO cases ({", ".join(CASE_FIELDS)}, {ASSIGNMENT_COLUMNS}, assigned_at,
                           {", ".join(WORKFLOW_FIELDS)})
        SELECT :external_id, :category, :category_code, :description, :source, 'reported',
               :reported_at, p.geom, :raw_x, :raw_y, :raw_crs, NULL,
               {ASSIGNMENT_FROM_A}, now(), {", ".join(":" + f for f in WORKFLOW_FIELDS)}
        FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom) p
        CROSS JOIN LATERAL grid_assignment(p.geom) a
        ON CONFLICT (external_id) DO NOTHING
        RETURNING *
    ), first_event AS (
        INSERT INTO case_events (case_id, seq, action, from_status, to_status, actor, role,
                                 unit_code, at, note, data)
        SELECT id, 1, 'report', NULL, 'reported', :actor, :role, :actor_unit, :now,
               description, jsonb_build_object('source', source)
        FROM new_case
    )
    SELECT x.*, ({DUPLICATES_OF_X}) AS possible_duplicates
    FROM ({CASE_SELECT.format(source="new_case")}) x
    """
    )
)


def insert_one(session: Session, values: dict[str, Any]) -> dict[str, Any] | None:
    """The stored case with its grid codes, or None when the external id is taken."""
    row = session.execute(INSERT_ONE, values).first()
    return dict(row._mapping) if row else None


# --- workflow -------------------------------------------------------------------------------


def lock_case(session: Session, case_id: int, scope: Scope) -> dict[str, Any] | None:
    """The case row if `scope` sees it, locked until the transaction ends: concurrent moves
    queue up here."""
    seen, params = case_condition(scope)
    row = session.execute(
        sa.text(f"SELECT * FROM cases c WHERE c.id = :id AND {seen} FOR UPDATE"),
        {**params, "id": case_id},
    ).first()
    return dict(row._mapping) if row else None


def update_case(session: Session, case_id: int, version: int, changes: dict[str, Any]) -> bool:
    """Apply `changes` if the case is still at `version`; the version goes up by one."""
    assignments = [f"{column} = :{column}" for column in changes] + ["version = version + 1"]
    result = session.execute(
        sa.text(
            f"UPDATE cases SET {', '.join(assignments)}"
            " WHERE id = :case_id AND version = :expected_version"
        ),
        {**changes, "case_id": case_id, "expected_version": version},
    )
    return cast(sa.CursorResult, result).rowcount == 1


INSERT_EVENT = sa.text(
    """
    INSERT INTO case_events (case_id, seq, action, from_status, to_status, actor, role,
                             unit_code, at, note, data, late)
    SELECT :case_id, coalesce(max(seq), 0) + 1, :action, :from_status, :to_status, :actor,
           :role, :unit_code, :at, :note, CAST(:data AS jsonb), :late
    FROM case_events WHERE case_id = :case_id
    RETURNING id, seq
    """
)


def insert_event(session: Session, event: dict[str, Any]) -> int:
    return int(session.execute(INSERT_EVENT, event).one().id)


def list_events(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.text(
            """
            SELECT e.id, e.seq, e.action, e.from_status, e.to_status, e.actor, e.role,
                   e.unit_code, e.at, e.note, e.data, e.late,
                   coalesce((SELECT array_agg(a.id ORDER BY a.id) FROM attachments a
                             WHERE a.event_id = e.id), '{}') AS attachments
            FROM case_events e WHERE e.case_id = :id ORDER BY e.seq
            """
        ),
        {"id": case_id},
    )
    return [dict(r._mapping) for r in rows]


def insert_attachment(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    row = session.execute(
        sa.text(
            """
            INSERT INTO attachments (case_id, filename, content_type, size_bytes, sha256,
                                     uploaded_by)
            VALUES (:case_id, :filename, :content_type, :size_bytes, :sha256, :uploaded_by)
            RETURNING *
            """
        ),
        values,
    ).one()
    return dict(row._mapping)


def list_attachments(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.text("SELECT * FROM attachments WHERE case_id = :id ORDER BY id"), {"id": case_id}
    )
    return [dict(r._mapping) for r in rows]


def get_attachment(session: Session, attachment_id: int) -> dict[str, Any] | None:
    row = session.execute(
        sa.text("SELECT * FROM attachments WHERE id = :id"), {"id": attachment_id}
    ).first()
    return dict(row._mapping) if row else None


def link_attachments(session: Session, case_id: int, event_id: int, ids: list[int]) -> int:
    """Attach uploaded files of this case, not yet on an event, to `event_id`."""
    result = session.execute(
        sa.text(
            """
            UPDATE attachments SET event_id = :event_id
            WHERE case_id = :case_id AND event_id IS NULL AND id = ANY(:ids)
            """
        ),
        {"event_id": event_id, "case_id": case_id, "ids": ids},
    )
    return cast(sa.CursorResult, result).rowcount or 0


# Same category, open, within a radius in metres (on the spheroid, never degrees) and a time
# window before or after the report.
POSSIBLE_DUPLICATES = f"""
    SELECT d.id, d.external_id, d.category, d.category_code, d.status, d.reported_at,
           ST_Distance(d.geom::geography, c.geom::geography) AS distance_m
    FROM cases c
    JOIN cases d ON d.id <> c.id
        AND d.status NOT IN ({FINISHED_STATES})
        AND d.geom && {NEAR_BOX.format(point="c.geom", radius=":radius_m")}
        AND ST_DWithin(d.geom::geography, c.geom::geography, :radius_m)
        AND (d.category_code = c.category_code
             OR (c.category_code IS NULL AND d.category_code IS NULL
                 AND d.category = c.category))
        AND d.reported_at BETWEEN c.reported_at - :window AND c.reported_at + :window
    WHERE c.id = :case_id AND c.geom IS NOT NULL AND {{seen}}
    ORDER BY distance_m, d.id
    LIMIT 20
    """


def possible_duplicates(
    session: Session, case_id: int, radius_m: float, window_h: float, scope: Scope
) -> list[dict[str, Any]]:
    """Only duplicates `scope` sees are offered: the list must not reveal the others."""
    seen, params = case_condition(scope, "d")
    rows = session.execute(
        sa.text(POSSIBLE_DUPLICATES.format(seen=seen)),
        {**params, "case_id": case_id, "radius_m": radius_m, "window": timedelta(hours=window_h)},
    )
    return [dict(r._mapping) for r in rows]


def lock_idempotency_key(session: Session, key: str) -> dict[str, Any] | None:
    """Serialise requests with the same key, then return what the first one stored."""
    session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 7))"), {"key": key}
    )
    row = session.execute(
        sa.text("SELECT request_sha256, case_id FROM idempotency_keys WHERE key = :key"),
        {"key": key},
    ).first()
    return dict(row._mapping) if row else None


def store_idempotency_key(session: Session, key: str, request_sha256: str, case_id: int) -> None:
    session.execute(
        sa.text(
            "INSERT INTO idempotency_keys (key, request_sha256, case_id)"
            " VALUES (:key, :sha, :case_id)"
        ),
        {"key": key, "sha": request_sha256, "case_id": case_id},
    )


# Open cases whose running step is overdue (red) or at least 80 % used (yellow) at :at.
DEADLINE_WATCH = (
    CASE_SELECT.format(source="cases")
    + """
    WHERE c.due_at IS NOT NULL AND c.status NOT IN ('parked', """
    + FINISHED_STATES
    + """)
      AND c.warn_at <= :at {filters}
    ORDER BY c.due_at, c.id
    LIMIT :limit
"""
)


def deadline_watch(
    session: Session, at: datetime, filters: dict[str, Any], limit: int, scope: Scope
) -> list[dict[str, Any]]:
    seen, params = case_condition(scope)
    where = [seen]
    params.update(at=at, limit=limit)
    if filters.get("grid_column"):
        where.append(f"c.{filters['grid_column']} IN (SELECT id FROM grids WHERE code = :grid)")
        params["grid"] = filters["grid"]
    if filters.get("unit"):
        where.append("c.unit_code = :unit")
        params["unit"] = filters["unit"]
    if filters.get("overdue_only"):
        where.append("c.due_at < :at")
    sql = DEADLINE_WATCH.format(filters="".join(f" AND {w}" for w in where))
    return [dict(r._mapping) for r in session.execute(sa.text(sql), params)]


def visible_case_ids(session: Session, ids: list[int], scope: Scope) -> set[int]:
    seen, params = case_condition(scope)
    rows = session.execute(
        sa.text(f"SELECT c.id FROM cases c WHERE c.id = ANY(:ids) AND {seen}"),
        {**params, "ids": ids},
    )
    return set(rows.scalars())


def get_case(session: Session, case_id: int, scope: Scope) -> dict[str, Any] | None:
    """The case if `scope` sees it."""
    seen, params = case_condition(scope)
    row = session.execute(
        sa.text(CASES + f" WHERE c.id = :id AND {seen}"), {**params, "id": case_id}
    ).first()
    return dict(row._mapping) if row else None


def list_cases(
    session: Session,
    *,
    scope: Scope,
    grid_code: str | None = None,
    grid_level: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    status: str | None = None,
    outside_coverage: bool | None = None,
    limit: int | None = 5000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    return list(
        iter_cases(
            session,
            scope=scope,
            newest_first=True,
            grid_code=grid_code,
            grid_level=grid_level,
            bbox=bbox,
            status=status,
            outside_coverage=outside_coverage,
            limit=limit,
            offset=offset,
        )
    )


def iter_cases(
    session: Session,
    *,
    scope: Scope,
    grid_code: str | None = None,
    grid_level: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    status: str | None = None,
    outside_coverage: bool | None = None,
    limit: int | None = None,
    offset: int = 0,
    batch: int = 10_000,
    newest_first: bool = False,
) -> Iterator[dict[str, Any]]:
    seen, params = case_condition(scope)
    where = [seen]
    if grid_code is not None and grid_level:
        # Every boundary version of the grid: cases keep the version they were assigned under.
        column = grids_repo.CASE_GRID_COLUMN[grid_level]
        where.append(f"c.{column} IN (SELECT id FROM grids WHERE code = :grid_code)")
        params["grid_code"] = grid_code
    if bbox:
        where.append("c.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        params.update(dict(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True)))
    if status:
        where.append("c.status = :status")
        params["status"] = status
    if outside_coverage is not None:
        where.append("c.outside_coverage = :outside")
        params["outside"] = outside_coverage
    # Map layers want the latest reports when a limit cuts the list; exports keep id order.
    order = "c.reported_at DESC NULLS LAST, c.id DESC" if newest_first else "c.id"
    sql = CASES + f" WHERE {' AND '.join(where)} ORDER BY {order}"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    if offset:
        sql += " OFFSET :offset"
        params["offset"] = offset
    result = session.execute(sa.text(sql).execution_options(yield_per=batch), params)
    for row in result:
        yield dict(row._mapping)


# --- resident reports, found by the sha256 of their follow token -----------------------------

# Only what a resident may see of their own case (no unit, rule, staff, coordinates or other
# cases), with the names of its grids. `lock` takes the case row until the transaction ends,
# so that two uploads at once cannot both pass the photo count.
# A case in the fields its resident may see.
PUBLIC_CASE = """
    SELECT c.id, c.version, c.external_id, c.category, c.description, c.location_note,
           c.status, c.reported_at, c.satisfaction,
           g2.name AS community_name, gr.name AS grid_name
    FROM cases c
    LEFT JOIN grids g2 ON g2.id = c.second_grid_id
    LEFT JOIN grids gr ON gr.id = c.responsible_grid_id
"""
FOLLOWED_CASE = PUBLIC_CASE + " WHERE c.follow_token_sha256 = :digest"


def followed_case(session: Session, digest: str, *, lock: bool = False) -> dict[str, Any] | None:
    """The case whose follow token has this digest, in the fields a resident may see."""
    sql = FOLLOWED_CASE + (" FOR UPDATE OF c" if lock else "")
    row = session.execute(sa.text(sql), {"digest": digest}).first()
    return dict(row._mapping) if row else None


def cases_reported_by(session: Session, user_id: int, limit: int) -> list[dict[str, Any]]:
    """The cases an account reported, newest first, in the fields a resident may see."""
    rows = session.execute(
        sa.text(PUBLIC_CASE + " WHERE c.reporter_user_id = :user ORDER BY c.id DESC LIMIT :n"),
        {"user": user_id, "n": limit},
    )
    return [dict(r._mapping) for r in rows]


def public_steps(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The moves that changed the case's status, oldest first: what, to which status, when,
    and the note (the service shows a resident only the reason of a return). Who made them
    and their data stay with the staff (GET /api/cases/{id}/events)."""
    rows = session.execute(
        sa.text(
            """
            SELECT action, to_status, at, note FROM case_events
            WHERE case_id = :id AND from_status IS DISTINCT FROM to_status
            ORDER BY seq
            """
        ),
        {"id": case_id},
    )
    return [dict(r._mapping) for r in rows]


def count_attachments(session: Session, case_id: int, uploaded_by: str) -> int:
    return int(
        session.execute(
            sa.text("SELECT count(*) FROM attachments WHERE case_id = :id AND uploaded_by = :by"),
            {"id": case_id, "by": uploaded_by},
        ).scalar_one()
    )


def set_location_note(session: Session, case_id: int, note: str) -> None:
    """Where exactly, in the reporter's words (a report's INSERT leaves it empty)."""
    session.execute(
        sa.text("UPDATE cases SET location_note = :note WHERE id = :id"),
        {"id": case_id, "note": note},
    )
