"""SQL for red-property claims: courtyards in view, claims, coverage and the map layer.

Every read is filtered in SQL by the person's scope (auth/scope.py place_condition), with
two red-property rules on top: a property company sees its own claims (whichever courtyard),
and it sees the unmanaged courtyards, which it may claim.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope, place_condition

OPEN_STATUSES = ("pending", "approved")


def courtyards_in_view(scope: Scope, alias: str = "p") -> tuple[str, dict[str, Any]]:
    """The courtyards a person sees in red-property views: their places, and for a property
    company also every unmanaged courtyard (the ones it could claim)."""
    seen, params = place_condition(scope, alias)
    if scope.unit_code and not scope.whole_street:
        seen = f"({seen} OR {alias}.management_status = 'unmanaged')"
    return seen, params


def claim_condition(scope: Scope, claim: str = "k", place: str = "p") -> tuple[str, dict[str, Any]]:
    """The claims a person sees: a property company its own; everyone else those of the
    courtyards in their places (the whole street, or their grid's subtree)."""
    if scope.unit_code and not scope.whole_street:
        return f"{claim}.company_code = :scope_unit", {"scope_unit": scope.unit_code}
    return place_condition(scope, place)


COURTYARD = """
    SELECT p.id, p.code, p.name, p.management_status, p.manager_unit_code,
           g2.code AS community_code, g2.name AS community_name
    FROM places p LEFT JOIN grids g2 ON g2.id = p.second_grid_id
    WHERE p.id = :id AND p.kind = 'courtyard' AND {seen}
"""


def get_courtyard(
    session: Session, courtyard_id: int, scope: Scope, *, lock: bool = False
) -> dict[str, Any] | None:
    """The courtyard if the scope sees it; locked, claims and decisions on one courtyard
    take turns (so two claims cannot both find it free)."""
    seen, params = courtyards_in_view(scope)
    sql = COURTYARD.format(seen=seen) + (" FOR UPDATE OF p" if lock else "")
    row = session.execute(sa.text(sql), {**params, "id": courtyard_id}).first()
    return dict(row._mapping) if row else None


def property_company(session: Session, code: str) -> dict[str, Any] | None:
    row = session.execute(
        sa.text(
            "SELECT code, name, active FROM units WHERE code = :code AND kind = 'property_company'"
        ),
        {"code": code},
    ).first()
    return dict(row._mapping) if row else None


CLAIMS = """
    SELECT k.id, k.courtyard_id, p.code AS courtyard_code, p.name AS courtyard_name,
           p.management_status, g2.code AS community_code, g2.name AS community_name,
           k.company_code, u.name AS company_name, k.status, k.claimed_on, k.note,
           k.requested_by, k.requested_at, k.decided_by, k.decided_at, k.decision_note,
           k.ended_on, k.ended_by, k.end_reason
    FROM courtyard_claims k
    JOIN places p ON p.id = k.courtyard_id
    JOIN units u ON u.code = k.company_code
    LEFT JOIN grids g2 ON g2.id = p.second_grid_id
"""


def open_claim(session: Session, courtyard_id: int) -> dict[str, Any] | None:
    """The courtyard's pending or approved claim (at most one: a unique index says so)."""
    row = session.execute(
        sa.text(CLAIMS + " WHERE k.courtyard_id = :id AND k.status IN ('pending', 'approved')"),
        {"id": courtyard_id},
    ).first()
    return dict(row._mapping) if row else None


def last_ended_on(session: Session, courtyard_id: int) -> date | None:
    """When the courtyard's last ended claim ended, if one did."""
    return session.execute(
        sa.text("SELECT max(ended_on) FROM courtyard_claims WHERE courtyard_id = :id"),
        {"id": courtyard_id},
    ).scalar()


def insert_claim(session: Session, values: dict[str, Any]) -> int:
    return session.execute(
        sa.text(
            """
            INSERT INTO courtyard_claims (courtyard_id, company_code, status, claimed_on, note,
                                          requested_by, requested_at)
            VALUES (:courtyard_id, :company_code, 'pending', :claimed_on, :note,
                    :requested_by, :requested_at)
            RETURNING id
            """
        ),
        values,
    ).scalar_one()


def get_claim(
    session: Session, claim_id: int, scope: Scope, *, lock: bool = False
) -> dict[str, Any] | None:
    seen, params = claim_condition(scope)
    sql = CLAIMS + f" WHERE k.id = :id AND {seen}" + (" FOR UPDATE OF k, p" if lock else "")
    row = session.execute(sa.text(sql), {**params, "id": claim_id}).first()
    return dict(row._mapping) if row else None


CLAIM_FILTERS = {
    "status": "k.status = :status",
    "company": "k.company_code = :company",
    "community": "g2.code = :community",
    "courtyard": "k.courtyard_id = :courtyard",
}


def list_claims(
    session: Session, scope: Scope, filters: dict[str, Any], limit: int, offset: int
) -> list[dict[str, Any]]:
    """Claims the scope sees, newest request first; only the filters given apply."""
    seen, params = claim_condition(scope)
    given = {k: v for k, v in filters.items() if v is not None}
    where = " AND ".join([seen, *(CLAIM_FILTERS[k] for k in given)])
    rows = session.execute(
        sa.text(
            CLAIMS + f" WHERE {where} ORDER BY k.requested_at DESC, k.id DESC"
            " LIMIT :limit OFFSET :offset"
        ),
        {**params, **given, "limit": limit, "offset": offset},
    )
    return [dict(r._mapping) for r in rows]


def update_claim(session: Session, claim_id: int, changes: dict[str, Any]) -> None:
    columns = ", ".join(f"{c} = :{c}" for c in changes)
    session.execute(
        sa.text(f"UPDATE courtyard_claims SET {columns} WHERE id = :id"),
        {**changes, "id": claim_id},
    )


def set_management(
    session: Session,
    courtyard_id: int,
    *,
    status: str,
    manager: str | None,
    by: str,
    at: Any,
) -> None:
    """The courtyard's management status and company: what the dispatch rules read."""
    session.execute(
        sa.text(
            "UPDATE places SET management_status = :status, manager_unit_code = :manager,"
            " updated_at = :at, updated_by = :by WHERE id = :id"
        ),
        {"id": courtyard_id, "status": status, "manager": manager, "by": by, "at": at},
    )


def community_exists(session: Session, code: str) -> bool:
    return bool(
        session.execute(
            sa.text(
                "SELECT 1 FROM grids WHERE code = :code AND level = 'second' AND valid_to IS NULL"
            ),
            {"code": code},
        ).first()
    )


# Unmanaged courtyards with no pending or approved claim: what a company may still claim.
CLAIMABLE = """
    SELECT p.id, p.code, p.name, p.address, p.households,
           g2.code AS community_code, g2.name AS community_name,
           ST_AsGeoJSON(p.geom, 7)::json AS geometry
    FROM places p LEFT JOIN grids g2 ON g2.id = p.second_grid_id
    WHERE p.kind = 'courtyard' AND p.management_status = 'unmanaged'
      AND NOT EXISTS (SELECT 1 FROM courtyard_claims k
                      WHERE k.courtyard_id = p.id AND k.status IN ('pending', 'approved'))
      AND {seen} {bbox}
    ORDER BY g2.code, p.name, p.id
"""

BBOX = "AND p.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"


def _bbox_params(bbox: tuple[float, float, float, float] | None) -> dict[str, float]:
    return dict(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True)) if bbox else {}


def claimable_courtyards(
    session: Session, scope: Scope, bbox: tuple[float, float, float, float] | None
) -> list[dict[str, Any]]:
    seen, params = courtyards_in_view(scope)
    sql = CLAIMABLE.format(seen=seen, bbox=BBOX if bbox else "")
    return [
        dict(r._mapping) for r in session.execute(sa.text(sql), {**params, **_bbox_params(bbox)})
    ]


# Each courtyard with the claim that decides its colour: the open one (pending or approved).
COURTYARD_LAYER = """
    SELECT p.id, p.code, p.name, p.management_status, p.manager_unit_code,
           m.name AS manager_name, g2.code AS community_code, g2.name AS community_name,
           k.id AS claim_id, k.status AS claim_status, k.company_code AS claim_company_code,
           ku.name AS claim_company_name, k.claimed_on,
           ST_AsGeoJSON(p.geom, 7)::json AS geometry
    FROM places p
    LEFT JOIN grids g2 ON g2.id = p.second_grid_id
    LEFT JOIN units m ON m.code = p.manager_unit_code
    LEFT JOIN courtyard_claims k
           ON k.courtyard_id = p.id AND k.status IN ('pending', 'approved')
    LEFT JOIN units ku ON ku.code = k.company_code
    WHERE p.kind = 'courtyard' AND {seen} {bbox}
    ORDER BY p.id
"""


def courtyard_layer(
    session: Session, scope: Scope, bbox: tuple[float, float, float, float] | None
) -> list[dict[str, Any]]:
    seen, params = courtyards_in_view(scope)
    sql = COURTYARD_LAYER.format(seen=seen, bbox=BBOX if bbox else "")
    return [
        dict(r._mapping) for r in session.execute(sa.text(sql), {**params, **_bbox_params(bbox)})
    ]


# The courtyards that need a red-property company (unmanaged or already taken on), each with
# its community, the company managing it and its open claim; the service counts them per
# community and per company. A courtyard recorded as red property without a claim (imported
# from the street's ledger) counts as claimed, by its manager, since an unknown day.
NEEDING = """
    SELECT p.id, p.name, p.management_status, p.manager_unit_code, m.name AS manager_name,
           g2.code AS community_code, g2.name AS community_name,
           k.id AS claim_id, k.status AS claim_status, k.claimed_on
    FROM places p
    LEFT JOIN grids g2 ON g2.id = p.second_grid_id
    LEFT JOIN units m ON m.code = p.manager_unit_code
    LEFT JOIN courtyard_claims k
           ON k.courtyard_id = p.id AND k.status IN ('pending', 'approved')
    WHERE p.kind = 'courtyard' AND p.management_status IN ('unmanaged', 'red_property')
      AND {seen}
    ORDER BY g2.code NULLS LAST, p.id
"""


def courtyards_needing(session: Session, scope: Scope) -> list[dict[str, Any]]:
    seen, params = place_condition(scope)
    return [dict(r._mapping) for r in session.execute(sa.text(NEEDING.format(seen=seen)), params)]
