"""SQL for responsibility lists (事项清单), grid staff and the grids each unit serves."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.auth.scope import SUBTREE_CODES, Scope

# A grid and its ancestors, by code, walked up from the current version: an item attached to
# the community or the street applies in every grid under it. `{param}` names the bound
# parameter holding the grid's code.
CHAIN_CODES = """(
    WITH RECURSIVE up AS (
        SELECT id, code, parent_id FROM grids WHERE code = :{param} AND valid_to IS NULL
        UNION
        SELECT g.id, g.code, g.parent_id FROM grids g JOIN up ON g.id = up.parent_id)
    SELECT code FROM up)"""


def grid_code_condition(scope: Scope, column: str) -> tuple[str, dict[str, Any]]:
    """An SQL condition on a column of grid codes: territory staff see their grid's subtree,
    everyone else every grid (as grid_condition does for the grids table)."""
    if scope.grid_code:
        return f"{column} IN {SUBTREE_CODES}", {"scope_grid": scope.grid_code}
    return "TRUE", {}


def _attached_grid_condition(scope: Scope) -> tuple[str, dict[str, Any]]:
    """The attachments of an item a person is shown: territory staff those in their subtree
    and on their own chain up to the street (whose items apply to them too)."""
    if scope.grid_code:
        return (
            f"(a.grid_code IN {SUBTREE_CODES} OR a.grid_code IN"
            f" {CHAIN_CODES.format(param='scope_grid')})",
            {"scope_grid": scope.grid_code},
        )
    return "TRUE", {}


# --- responsibility items ---------------------------------------------------------------------

ITEM_COLUMNS = """i.id, i.code, i.name, i.responsible_level, i.on_the_spot, i.time_limit,
    i.category_code, i.department_code, i.active"""


def list_items(
    session: Session,
    *,
    scope: Scope,
    level: str | None = None,
    grid: str | None = None,
    unit: str | None = None,
    code: str | None = None,
    include_inactive: bool = False,
) -> list[dict[str, Any]]:
    """Items with the grids (those `scope` sees) and units they are attached to. `grid`: the
    items attached to that grid or one of its ancestors; `unit`: attached to the unit or
    naming it as the responsible department."""
    seen, params = _attached_grid_condition(scope)
    where = [] if include_inactive else ["i.active"]
    via = ""
    if code is not None:
        where.append("i.code = :code")
        params["code"] = code
    if level:
        where.append("i.responsible_level = :level")
        params["level"] = level
    if grid:
        chain = CHAIN_CODES.format(param="grid")
        where.append(
            "EXISTS (SELECT 1 FROM responsibility_assignments a"
            f" WHERE a.item_id = i.id AND a.grid_code IN {chain})"
        )
        via = (
            ", array(SELECT a.grid_code FROM responsibility_assignments a"
            f" WHERE a.item_id = i.id AND a.grid_code IN {chain} ORDER BY a.grid_code)"
            " AS applies_via"
        )
        params["grid"] = grid
    if unit:
        where.append(
            "(i.department_code = :unit OR EXISTS (SELECT 1 FROM responsibility_assignments a"
            " WHERE a.item_id = i.id AND a.unit_code = :unit))"
        )
        params["unit"] = unit
    sql = f"""
        SELECT {ITEM_COLUMNS},
            array(SELECT a.grid_code FROM responsibility_assignments a
                  WHERE a.item_id = i.id AND a.grid_code IS NOT NULL AND {seen}
                  ORDER BY a.grid_code) AS grid_codes,
            array(SELECT a.unit_code FROM responsibility_assignments a
                  WHERE a.item_id = i.id AND a.unit_code IS NOT NULL
                  ORDER BY a.unit_code) AS unit_codes
            {via}
        FROM responsibility_items i
        WHERE {" AND ".join(where) or "TRUE"}
        ORDER BY i.code
    """
    return [dict(r._mapping) for r in session.execute(sa.text(sql), params)]


def get_item(session: Session, code: str, *, lock: bool = False) -> dict[str, Any] | None:
    row = session.execute(
        sa.text(
            f"SELECT {ITEM_COLUMNS} FROM responsibility_items i WHERE i.code = :code"
            + (" FOR UPDATE" if lock else "")
        ),
        {"code": code},
    ).first()
    return dict(row._mapping) if row else None


ITEM_FIELDS = (
    "code",
    "name",
    "responsible_level",
    "on_the_spot",
    "time_limit",
    "category_code",
    "department_code",
)

# Insert or update by code, and say which: an import reports new and updated items.
UPSERT_ITEM = sa.text(
    f"""
    INSERT INTO responsibility_items ({", ".join(ITEM_FIELDS)}, active)
    VALUES ({", ".join(":" + f for f in ITEM_FIELDS)}, :active)
    ON CONFLICT (code) DO UPDATE SET
        {", ".join(f"{f} = excluded.{f}" for f in ITEM_FIELDS if f != "code")},
        active = excluded.active
    RETURNING id, (xmax = 0) AS inserted
    """
)


def upsert_item(session: Session, values: dict[str, Any]) -> tuple[int, bool]:
    """(id, whether it is new) of the item with `values` (an existing code is updated)."""
    row = session.execute(UPSERT_ITEM, {"active": True, **values}).one()
    return row.id, row.inserted


def insert_item(session: Session, values: dict[str, Any]) -> int | None:
    """The new item's id, or None when the code is taken."""
    return session.execute(
        sa.text(
            f"INSERT INTO responsibility_items ({', '.join(ITEM_FIELDS)})"
            f" VALUES ({', '.join(':' + f for f in ITEM_FIELDS)})"
            " ON CONFLICT (code) DO NOTHING RETURNING id"
        ),
        values,
    ).scalar()


def update_item(session: Session, item_id: int, changes: dict[str, Any]) -> None:
    if changes:
        sets = ", ".join(f"{k} = :{k}" for k in changes)
        session.execute(
            sa.text(f"UPDATE responsibility_items SET {sets} WHERE id = :id"),
            {**changes, "id": item_id},
        )


def attach(session: Session, item_id: int, *, grid_code: str | None, unit_code: str | None) -> bool:
    """Attach the item; False when it already is."""
    target = "grid_code" if grid_code is not None else "unit_code"
    inserted = session.execute(
        sa.text(
            "INSERT INTO responsibility_assignments (item_id, grid_code, unit_code)"
            " VALUES (:item, :grid, :unit)"
            f" ON CONFLICT (item_id, {target}) WHERE {target} IS NOT NULL DO NOTHING"
            " RETURNING id"
        ),
        {"item": item_id, "grid": grid_code, "unit": unit_code},
    ).scalar()
    return inserted is not None


def detach(session: Session, item_id: int, *, grid_code: str | None, unit_code: str | None) -> bool:
    """Detach the item; False when it was not attached there."""
    column, value = ("grid_code", grid_code) if grid_code is not None else ("unit_code", unit_code)
    deleted = session.execute(
        sa.text(
            f"DELETE FROM responsibility_assignments WHERE item_id = :item AND {column} = :v"
            " RETURNING id"
        ),
        {"item": item_id, "v": value},
    ).first()
    return deleted is not None


# --- what the checks look up -------------------------------------------------------------------


def current_grid_codes(session: Session, codes: list[str]) -> set[str]:
    """Those of `codes` that a current grid has."""
    rows = session.execute(
        sa.text("SELECT code FROM grids WHERE code = ANY(:codes) AND valid_to IS NULL"),
        {"codes": codes},
    )
    return {r.code for r in rows}


def grid_seen(session: Session, scope: Scope, code: str) -> bool:
    """A current grid with this code, inside `scope`."""
    seen, params = grid_code_condition(scope, "g.code")
    return bool(
        session.execute(
            sa.text(
                f"SELECT 1 FROM grids g WHERE g.code = :code AND g.valid_to IS NULL AND {seen}"
            ),
            {**params, "code": code},
        ).first()
    )


def unit_kinds(session: Session, codes: list[str]) -> dict[str, str]:
    """code -> kind of those of `codes` that are active units."""
    rows = session.execute(
        sa.text("SELECT code, kind FROM units WHERE code = ANY(:codes) AND active"),
        {"codes": codes},
    )
    return {r.code: r.kind for r in rows}


def get_unit(session: Session, code: str) -> dict[str, Any] | None:
    """The active unit with this code (code, name, kind), or None."""
    row = session.execute(
        sa.text("SELECT code, name, kind FROM units WHERE code = :code AND active"),
        {"code": code},
    ).first()
    return dict(row._mapping) if row else None


def category_codes(session: Session, codes: list[str]) -> set[str]:
    rows = session.execute(
        sa.text("SELECT code FROM case_categories WHERE code = ANY(:codes)"), {"codes": codes}
    )
    return {r.code for r in rows}


def account_exists(session: Session, username: str) -> bool:
    return bool(
        session.execute(sa.text("SELECT 1 FROM users WHERE username = :u"), {"u": username}).first()
    )


# --- grid staff --------------------------------------------------------------------------------

STAFF_SELECT = """
    SELECT s.id, s.grid_code, g.name AS grid_name, s.name, s.duty, s.unit_code,
           u.name AS unit_name, s.phone, s.username, s.active
    FROM grid_staff s
    LEFT JOIN grids g ON g.code = s.grid_code AND g.valid_to IS NULL
    LEFT JOIN units u ON u.code = s.unit_code
"""


def list_staff(
    session: Session,
    *,
    scope: Scope,
    grid: str | None = None,
    duty: str | None = None,
    unit: str | None = None,
    include_inactive: bool = False,
) -> list[dict[str, Any]]:
    """The staff of the grids `scope` sees, filters composed."""
    seen, params = grid_code_condition(scope, "s.grid_code")
    where = [seen]
    if not include_inactive:
        where.append("s.active")
    for column, value in (("grid_code", grid), ("duty", duty), ("unit_code", unit)):
        if value is not None:
            where.append(f"s.{column} = :{column}")
            params[column] = value
    sql = f"{STAFF_SELECT} WHERE {' AND '.join(where)} ORDER BY s.grid_code, s.duty, s.name, s.id"
    return [dict(r._mapping) for r in session.execute(sa.text(sql), params)]


def get_staff(
    session: Session, staff_id: int, *, scope: Scope, lock: bool = False
) -> dict[str, Any] | None:
    seen, params = grid_code_condition(scope, "s.grid_code")
    row = session.execute(
        sa.text(
            f"{STAFF_SELECT} WHERE s.id = :id AND {seen}" + (" FOR UPDATE OF s" if lock else "")
        ),
        {**params, "id": staff_id},
    ).first()
    return dict(row._mapping) if row else None


STAFF_FIELDS = ("grid_code", "name", "duty", "unit_code", "phone", "username")


def insert_staff(session: Session, values: dict[str, Any]) -> int:
    return session.execute(
        sa.text(
            f"INSERT INTO grid_staff ({', '.join(STAFF_FIELDS)})"
            f" VALUES ({', '.join(':' + f for f in STAFF_FIELDS)}) RETURNING id"
        ),
        {f: values.get(f) for f in STAFF_FIELDS},
    ).scalar_one()


def update_staff(session: Session, staff_id: int, changes: dict[str, Any]) -> None:
    if changes:
        sets = ", ".join(f"{k} = :{k}" for k in changes)
        session.execute(
            sa.text(f"UPDATE grid_staff SET {sets} WHERE id = :id"), {**changes, "id": staff_id}
        )


# --- the grids a unit serves ---------------------------------------------------------------


def list_unit_grids(
    session: Session, *, scope: Scope, unit: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """Each unit with the grids it serves (those `scope` sees); units serving none of them are
    left out."""
    seen, params = grid_code_condition(scope, "ug.grid_code")
    where = [seen]
    if unit is not None:
        where.append("u.code = :unit")
        params["unit"] = unit
    if kind is not None:
        where.append("u.kind = :kind")
        params["kind"] = kind
    sql = f"""
        SELECT u.code AS unit_code, u.name AS unit_name, u.kind AS unit_kind,
               array_agg(ug.grid_code ORDER BY ug.grid_code) AS grid_codes
        FROM unit_grids ug JOIN units u ON u.code = ug.unit_code
        WHERE {" AND ".join(where)}
        GROUP BY u.code, u.name, u.kind
        ORDER BY u.code
    """
    return [dict(r._mapping) for r in session.execute(sa.text(sql), params)]


def replace_unit_grids(session: Session, unit_code: str, grid_codes: list[str]) -> list[str]:
    """Make `grid_codes` the unit's grids; returns the ones it had before. The unit's row is
    locked first, so two replacements at once run one after the other (each DELETE would
    otherwise miss the other's uncommitted rows and the second INSERT collide)."""
    session.execute(sa.text("SELECT 1 FROM units WHERE code = :u FOR UPDATE"), {"u": unit_code})
    before = session.execute(
        sa.text("DELETE FROM unit_grids WHERE unit_code = :u RETURNING grid_code"),
        {"u": unit_code},
    )
    previous = sorted(r.grid_code for r in before)
    if grid_codes:
        session.execute(
            sa.text(
                "INSERT INTO unit_grids (unit_code, grid_code)"
                " SELECT :u, unnest(CAST(:codes AS text[]))"
            ),
            {"u": unit_code, "codes": grid_codes},
        )
    return previous
