"""Spatial SQL for places: staged import and assignment by a point on the place's surface."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.db.base import ASSIGNMENT_COLUMNS, ASSIGNMENT_FROM_A

INSERT_PLACES = sa.text(
    """
    INSERT INTO places (kind, code, name, management_status, properties, geom)
    VALUES (:kind, :code, :name, :management_status, CAST(:properties AS jsonb),
            ST_GeomFromWKB(:geom_wkb, 4326))
    ON CONFLICT (kind, code) WHERE code IS NOT NULL DO UPDATE
        SET name = excluded.name, management_status = excluded.management_status,
            properties = excluded.properties, geom = excluded.geom
    """
)

# A place is assigned where a point on its surface lies: a footprint straddling two grids
# still gets exactly one, and the point is inside the place even for L-shaped footprints.
ASSIGN_PLACES = sa.text(
    f"""
    UPDATE places pl SET
        ({ASSIGNMENT_COLUMNS}, assigned_at) =
        (SELECT {ASSIGNMENT_FROM_A}, now()
         FROM grid_assignment(ST_PointOnSurface(pl.geom)) a)
    WHERE pl.kind = :kind AND (pl.assigned_at IS NULL OR :all_rows)
    """
)

SUMMARY = sa.text(
    """
    SELECT count(*) AS places,
           count(*) FILTER (WHERE outside_coverage) AS outside_coverage,
           count(*) FILTER (WHERE on_boundary) AS on_boundary
    FROM places WHERE kind = :kind
    """
)


def upsert_places(session: Session, kind: str, rows: list[dict[str, Any]]) -> int:
    batch = [
        {**row, "kind": kind, "properties": json.dumps(row["properties"], ensure_ascii=False)}
        for row in rows
    ]
    if batch:
        session.execute(INSERT_PLACES, batch)
    return len(batch)


def assign_places(session: Session, kind: str, all_rows: bool = True) -> dict[str, int]:
    session.execute(ASSIGN_PLACES, {"kind": kind, "all_rows": all_rows})
    return dict(session.execute(SUMMARY, {"kind": kind}).one()._mapping)


def existing_codes(session: Session, kind: str, codes: list[str]) -> set[str]:
    rows = session.execute(
        sa.text("SELECT code FROM places WHERE kind = :kind AND code = ANY(:codes)"),
        {"kind": kind, "codes": codes},
    )
    return {r.code for r in rows}
