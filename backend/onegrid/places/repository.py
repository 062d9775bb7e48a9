"""Spatial SQL for places: staged import, one place written and read, assignment by a point
on the place's surface, and re-assignment of every place when boundaries change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope, assigned_in_subtree, place_condition
from onegrid.db.base import ASSIGNMENT_COLUMNS, ASSIGNMENT_FROM_A

INSERT_PLACES = sa.text(
    """
    INSERT INTO places (kind, code, name, management_status, properties, geom, address,
                        households, residents, licence_no, trade, key_tax_source, above_scale,
                        service_officer, starts_on, ends_on)
    VALUES (:kind, :code, :name, :management_status, CAST(:properties AS jsonb),
            ST_GeomFromWKB(:geom_wkb, 4326), :address, :households, :residents, :licence_no,
            :trade, coalesce(:key_tax_source, false), coalesce(:above_scale, false),
            :service_officer, :starts_on, :ends_on)
    ON CONFLICT (kind, code) WHERE code IS NOT NULL DO UPDATE
        SET name = excluded.name,
            -- a red-property claim is the claim workflow's to end, not a re-import's
            management_status = CASE WHEN places.management_status = 'red_property'
                                     THEN places.management_status
                                     ELSE excluded.management_status END,
            properties = excluded.properties, geom = excluded.geom,
            -- an attribute the file leaves out keeps what the registry holds
            address = coalesce(:address, places.address),
            households = coalesce(:households, places.households),
            residents = coalesce(:residents, places.residents),
            licence_no = coalesce(:licence_no, places.licence_no),
            trade = coalesce(:trade, places.trade),
            key_tax_source = coalesce(:key_tax_source, places.key_tax_source),
            above_scale = coalesce(:above_scale, places.above_scale),
            service_officer = coalesce(:service_officer, places.service_officer),
            starts_on = coalesce(:starts_on, places.starts_on),
            ends_on = coalesce(:ends_on, places.ends_on)
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

ASSIGN_ONE = sa.text(
    f"""
    UPDATE places pl SET
        ({ASSIGNMENT_COLUMNS}, assigned_at) =
        (SELECT {ASSIGNMENT_FROM_A}, now()
         FROM grid_assignment(ST_PointOnSurface(pl.geom)) a)
    WHERE pl.id = :id
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

# The codes of a place's grids, one per level: a new boundary version gives a grid a new id
# under the same code, so "moved" compares codes, never ids.
GRID_CODES_OF = """ARRAY[(SELECT code FROM grids WHERE id = {p}.street_grid_id),
                         (SELECT code FROM grids WHERE id = {p}.second_grid_id),
                         (SELECT code FROM grids WHERE id = {p}.third_grid_id),
                         (SELECT code FROM grids WHERE id = {p}.micro_grid_id),
                         (SELECT code FROM grids WHERE id = {p}.dedicated_grid_id)]"""

# Every place again, with the rule of grid_assignment(); the `before` CTE reads the rows as
# they were (all parts of one statement see the same snapshot), so each place's grid codes
# before and after come back side by side.
REASSIGN_ALL = sa.text(
    f"""
    WITH before AS (
        SELECT p.id, {GRID_CODES_OF.format(p="p")} AS codes FROM places p
    ), after AS (
        UPDATE places pl SET
            ({ASSIGNMENT_COLUMNS}, assigned_at) =
            (SELECT {ASSIGNMENT_FROM_A}, now()
             FROM grid_assignment(ST_PointOnSurface(pl.geom)) a)
        RETURNING pl.id, pl.kind, pl.code, pl.name, {GRID_CODES_OF.format(p="pl")} AS codes
    )
    SELECT a.id, a.kind, a.code, a.name, b.codes AS codes_before, a.codes AS codes_after
    FROM after a JOIN before b ON b.id = a.id
    """
)


def upsert_places(session: Session, kind: str, rows: list[dict[str, Any]]) -> int:
    batch = [
        {
            **dict.fromkeys(FILE_ATTRIBUTES),
            **row,
            "kind": kind,
            "properties": json.dumps(row["properties"], ensure_ascii=False),
        }
        for row in rows
    ]
    if batch:
        session.execute(INSERT_PLACES, batch)
    return len(batch)


def assign_places(session: Session, kind: str, all_rows: bool = True) -> dict[str, int]:
    session.execute(ASSIGN_PLACES, {"kind": kind, "all_rows": all_rows})
    return dict(session.execute(SUMMARY, {"kind": kind}).one()._mapping)


def reassign_all(session: Session) -> list[dict[str, Any]]:
    """Assign every place again; each place with its grid codes per level before and after."""
    return [dict(r._mapping) for r in session.execute(REASSIGN_ALL)]


def existing_codes(session: Session, kind: str, codes: list[str]) -> set[str]:
    rows = session.execute(
        sa.text("SELECT code FROM places WHERE kind = :kind AND code = ANY(:codes)"),
        {"kind": kind, "codes": codes},
    )
    return {r.code for r in rows}


# --- one place ----------------------------------------------------------------------------

# The typed attributes a client may set (manager_unit_code and a red-property status come
# from the claim workflow only).
ATTRIBUTES = (
    "code",
    "name",
    "address",
    "households",
    "residents",
    "licence_no",
    "trade",
    "contact_unit_code",
    "key_tax_source",
    "above_scale",
    "service_officer",
    "starts_on",
    "ends_on",
    "management_status",
)
# The typed attributes a file may carry (places/service.py _file_attributes): not the code
# and name (columns of the file), nor what the registry checks (contact unit, status).
FILE_ATTRIBUTES = tuple(
    a for a in ATTRIBUTES if a not in ("code", "name", "contact_unit_code", "management_status")
)

INSERT_ONE = sa.text(
    f"""
    INSERT INTO places (kind, {", ".join(ATTRIBUTES)}, properties, geom, created_at,
                        updated_at, updated_by)
    VALUES (:kind, {", ".join(":" + a for a in ATTRIBUTES)}, CAST(:properties AS jsonb),
            ST_GeomFromWKB(:geom_wkb, 4326), :now, :now, :by)
    ON CONFLICT (kind, code) WHERE code IS NOT NULL DO NOTHING
    RETURNING id
    """
)


def insert_place(session: Session, values: dict[str, Any]) -> int | None:
    """The new place's id (assigned to its grids), or None when its code is taken."""
    params = {a: values.get(a) for a in ATTRIBUTES}
    params["key_tax_source"] = bool(params["key_tax_source"])
    params["above_scale"] = bool(params["above_scale"])
    params.update(
        kind=values["kind"],
        properties=json.dumps(values.get("properties") or {}, ensure_ascii=False),
        geom_wkb=values["geom_wkb"],
        now=values["now"],
        by=values["by"],
    )
    place_id = session.execute(INSERT_ONE, params).scalar()
    if place_id is not None:
        session.execute(ASSIGN_ONE, {"id": place_id})
    return place_id


def update_place(session: Session, place_id: int, changes: dict[str, Any]) -> None:
    """Write `changes` (attributes, properties, geom_wkb, updated_at, updated_by); a new
    geometry is assigned to its grids at once, in the same transaction."""
    sets, params = [], {"id": place_id}
    for column, value in changes.items():
        if column == "geom_wkb":
            sets.append("geom = ST_GeomFromWKB(:geom_wkb, 4326)")
        elif column == "properties":
            sets.append("properties = CAST(:properties AS jsonb)")
            value = json.dumps(value or {}, ensure_ascii=False)
        else:
            sets.append(f"{column} = :{column}")
        params[column] = value
    session.execute(sa.text(f"UPDATE places SET {', '.join(sets)} WHERE id = :id"), params)
    if "geom_wkb" in changes:
        session.execute(ASSIGN_ONE, {"id": place_id})


# How far each geometry's point on surface lies from the nearest grid (NULL inside one, or
# when there are no grids at all), by the foundation's rule.
NEAREST_GRID_M = sa.text(
    """
    SELECT (grid_assignment(ST_PointOnSurface(ST_GeomFromWKB(t.w, 4326)))).nearest_m
    FROM unnest(CAST(:wkbs AS bytea[])) WITH ORDINALITY AS t(w, i) ORDER BY t.i
    """
)


def nearest_grid_m(session: Session, wkbs: list[bytes]) -> list[float | None]:
    if not wkbs:
        return []
    return list(session.execute(NEAREST_GRID_M, {"wkbs": wkbs}).scalars())


def lock_code(session: Session, kind: str, code: str) -> None:
    """Hold (kind, code) to the end of the transaction: a second edit taking the same code
    waits, then finds it taken, instead of failing on the unique index."""
    session.execute(
        sa.text(
            "SELECT pg_advisory_xact_lock(hashtext('onegrid:place:' || :kind || ':' || :code))"
        ),
        {"kind": kind, "code": code},
    )


def lock_place(session: Session, place_id: int, scope: Scope) -> dict[str, Any] | None:
    """The place row (with its grid codes) if `scope` sees it, locked until the transaction
    ends, so two edits of one place queue up."""
    seen, params = place_condition(scope)
    row = session.execute(
        sa.text(
            f"SELECT p.*, {GRID_CODES_OF.format(p='p')} AS grid_codes FROM places p"
            f" WHERE p.id = :id AND {seen} FOR UPDATE"
        ),
        {**params, "id": place_id},
    ).first()
    return dict(row._mapping) if row else None


def place_in_scope(session: Session, place_id: int, scope: Scope) -> bool:
    seen, params = place_condition(scope)
    return bool(
        session.scalar(
            sa.text(f"SELECT EXISTS (SELECT 1 FROM places p WHERE p.id = :id AND {seen})"),
            {**params, "id": place_id},
        )
    )


def unit_kind(session: Session, code: str) -> str | None:
    """The kind of an active unit, or None when no active unit has this code."""
    return session.scalar(
        sa.text("SELECT kind FROM units WHERE code = :code AND active"), {"code": code}
    )


# --- reading ------------------------------------------------------------------------------

# Grids come from the ids stored on the place: one join per level, never a spatial join at
# read time (which would multiply rows where grids nest or overlap).
PLACE_SELECT = """
    SELECT p.id, p.kind, p.code, p.name, p.address, p.households, p.residents, p.licence_no,
           p.trade, p.contact_unit_code, cu.name AS contact_unit_name, p.key_tax_source,
           p.above_scale, p.service_officer, p.starts_on, p.ends_on, p.management_status,
           p.manager_unit_code, mu.name AS manager_unit_name, p.properties, p.created_at,
           p.updated_at, p.updated_by, ST_AsGeoJSON(p.geom, 7)::json AS geometry,
           ST_X(ST_PointOnSurface(p.geom)) AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat,
           gs.code AS street_code, gs.name AS street_name,
           g2.code AS second_code, g2.name AS second_name,
           g3.code AS third_code, g3.name AS third_name,
           gm.code AS micro_code, gm.name AS micro_name,
           gd.code AS dedicated_code, gd.name AS dedicated_name,
           gr.code AS responsible_code, gr.name AS responsible_name,
           gr.level AS responsible_level,
           p.assignment_rule, p.on_boundary, p.outside_coverage,
           gn.code AS nearest_code, gn.name AS nearest_name, p.nearest_m, p.assigned_at
    FROM places p
    LEFT JOIN units cu ON cu.code = p.contact_unit_code
    LEFT JOIN units mu ON mu.code = p.manager_unit_code
    LEFT JOIN grids gs ON gs.id = p.street_grid_id
    LEFT JOIN grids g2 ON g2.id = p.second_grid_id
    LEFT JOIN grids g3 ON g3.id = p.third_grid_id
    LEFT JOIN grids gm ON gm.id = p.micro_grid_id
    LEFT JOIN grids gd ON gd.id = p.dedicated_grid_id
    LEFT JOIN grids gr ON gr.id = p.responsible_grid_id
    LEFT JOIN grids gn ON gn.id = p.nearest_grid_id
"""

# The places of a grid's subtree (the filter `grid=`): assigned to the grid or any grid
# below it, under any boundary version of those codes.
IN_GRID_SUBTREE = assigned_in_subtree("p", "filter_grid")


def get_place(session: Session, place_id: int, scope: Scope) -> dict[str, Any] | None:
    seen, params = place_condition(scope)
    row = session.execute(
        sa.text(PLACE_SELECT + f" WHERE p.id = :id AND {seen}"), {**params, "id": place_id}
    ).first()
    return dict(row._mapping) if row else None


def iter_places(
    session: Session,
    *,
    scope: Scope,
    kind: str | None = None,
    grid_code: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    management_status: str | None = None,
    text: str | None = None,
    outside_coverage: bool | None = None,
    limit: int | None = None,
    offset: int = 0,
    batch: int = 5_000,
) -> Iterator[dict[str, Any]]:
    """The places `scope` sees, filters composed with AND (all optional), in id order."""
    seen, params = place_condition(scope)
    where = [seen]
    if kind:
        where.append("p.kind = :kind")
        params["kind"] = kind
    if grid_code:
        where.append(IN_GRID_SUBTREE)
        params["filter_grid"] = grid_code
    if bbox:
        where.append("p.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        params.update(dict(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True)))
    if management_status:
        where.append("p.management_status = :management_status")
        params["management_status"] = management_status
    if text:
        # A literal search: % and _ typed by a person are characters, not wildcards.
        where.append("(p.name ILIKE :text ESCAPE '\\' OR p.address ILIKE :text ESCAPE '\\')")
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["text"] = f"%{escaped}%"
    if outside_coverage is not None:
        where.append("p.outside_coverage = :outside")
        params["outside"] = outside_coverage
    sql = PLACE_SELECT + f" WHERE {' AND '.join(where)} ORDER BY p.id"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    if offset:
        sql += " OFFSET :offset"
        params["offset"] = offset
    result = session.execute(sa.text(sql).execution_options(yield_per=batch), params)
    for row in result:
        yield dict(row._mapping)
