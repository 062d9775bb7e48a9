"""SQL for units and categories: seed upserts, territory units, and the dispatch rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

UPSERT_UNIT = sa.text(
    """
    INSERT INTO units (code, name, kind, grid_code, phone, party_branch)
    VALUES (:code, :name, :kind, :grid_code, :phone, :party_branch)
    ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
        grid_code = excluded.grid_code, phone = excluded.phone,
        party_branch = excluded.party_branch, active = true
    """
)

UPSERT_CATEGORY = sa.text(
    """
    INSERT INTO case_categories (code, major_code, major_name, name, kind, department_code,
        file_limit, handle_limit, verify_limit, urgent, property_may_handle,
        self_handle_allowed)
    VALUES (:code, :major_code, :major_name, :name, :kind, :department, :file_limit,
        :handle_limit, :verify_limit, :urgent, :property_may_handle, :self_handle_allowed)
    ON CONFLICT (code) DO UPDATE SET major_code = excluded.major_code,
        major_name = excluded.major_name, name = excluded.name, kind = excluded.kind,
        department_code = excluded.department_code, file_limit = excluded.file_limit,
        handle_limit = excluded.handle_limit, verify_limit = excluded.verify_limit,
        urgent = excluded.urgent, property_may_handle = excluded.property_may_handle,
        self_handle_allowed = excluded.self_handle_allowed
    """
)


def upsert_units(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    rows = [{"party_branch": None, **row} for row in rows]
    if rows:
        session.execute(UPSERT_UNIT, rows)
    return len(rows)


def upsert_categories(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    rows = list(rows)
    if rows:
        session.execute(UPSERT_CATEGORY, rows)
    return len(rows)


# Every current street and second-level grid is a territory unit (属地), and every dedicated
# grid with a unit name is that unit. Codes are "<kind prefix>:<grid code>" so they never
# collide with a department's code.
SYNC_TERRITORY_UNITS = sa.text(
    """
    INSERT INTO units (code, name, kind, grid_code)
    SELECT CASE g.level WHEN 'street' THEN 'street:' WHEN 'second' THEN 'community:'
                        ELSE 'unit:' END || g.code,
           CASE WHEN g.level = 'dedicated' THEN g.unit_name ELSE g.name END,
           CASE g.level WHEN 'street' THEN 'street' WHEN 'second' THEN 'community'
                        ELSE 'dedicated_unit' END,
           g.code
    FROM grids g
    WHERE g.valid_to IS NULL
      AND (g.level IN ('street', 'second') OR (g.level = 'dedicated' AND g.unit_name <> ''))
    ON CONFLICT (code) DO UPDATE SET name = excluded.name, active = true
    """
)


def sync_territory_units(session: Session) -> None:
    session.execute(SYNC_TERRITORY_UNITS)


def list_units(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.text("SELECT code, name, kind, grid_code, phone, active FROM units ORDER BY kind, code")
    )
    return [dict(r._mapping) for r in rows]


def get_category(session: Session, code: str | None) -> dict[str, Any] | None:
    if not code:
        return None
    row = session.execute(
        sa.text("SELECT * FROM case_categories WHERE code = :code"), {"code": code}
    ).first()
    return dict(row._mapping) if row else None


def category_code_named(session: Session, name: str) -> str | None:
    """The code of the one type with exactly this name, or None (unknown or ambiguous)."""
    codes = (
        session.execute(
            sa.text("SELECT code FROM case_categories WHERE name = :name LIMIT 2"), {"name": name}
        )
        .scalars()
        .all()
    )
    return codes[0] if len(codes) == 1 else None


def list_categories(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(sa.text("SELECT * FROM case_categories ORDER BY code"))
    return [dict(r._mapping) for r in rows]


def unit_exists(session: Session, code: str) -> bool:
    return bool(
        session.execute(
            sa.text("SELECT 1 FROM units WHERE code = :code AND active"), {"code": code}
        ).first()
    )


# The units the dispatch rules consider by the place of a case `c`, as select-list items:
# the dedicated grid's unit, the company managing the smallest courtyard covering the point,
# the community and the street. Shared with the demo, which reads them for all cases at once.
PREMISES_CANDIDATES = """
    (SELECT u.code FROM grids g
     JOIN units u ON u.kind = 'dedicated_unit' AND u.grid_code = g.code AND u.active
     WHERE g.id = c.dedicated_grid_id) AS dedicated_unit,
    (SELECT p.manager_unit_code FROM places p
     JOIN units u ON u.code = p.manager_unit_code AND u.active
     WHERE p.kind = 'courtyard' AND ST_Covers(p.geom, c.geom)
     ORDER BY ST_Area(p.geom::geography) LIMIT 1) AS courtyard_company,
    (SELECT u.code FROM grids g
     JOIN units u ON u.kind = 'community' AND u.grid_code = g.code AND u.active
     WHERE g.id = c.second_grid_id) AS community,
    (SELECT u.code FROM grids g
     JOIN units u ON u.kind = 'street' AND u.grid_code = g.code AND u.active
     WHERE g.id = c.street_grid_id) AS street
"""

# The candidates of every dispatch rule for one case, in one round trip; the service picks
# the first that applies.
DISPATCH_CANDIDATES = sa.text(
    f"""
    SELECT {PREMISES_CANDIDATES},
        k.department_code AS category_department,
        coalesce(k.property_may_handle, true) AS premises_may_handle
    FROM cases c
    LEFT JOIN case_categories k ON k.code = c.category_code
    WHERE c.id = :case_id
    """
)


def dispatch_candidates(session: Session, case_id: int) -> dict[str, Any]:
    return dict(session.execute(DISPATCH_CANDIDATES, {"case_id": case_id}).one()._mapping)
