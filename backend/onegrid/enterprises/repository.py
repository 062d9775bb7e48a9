"""SQL for enterprise service: visits, their problems and the cases those became, coverage.

Every read is filtered in SQL by the enterprise's grids (auth/scope.py place_condition on the
enterprise, aliased `e`): a visit is seen by whoever sees the enterprise.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope, place_condition

# A problem is solved when its case is closed (结案) or evaluated (评价).
SOLVED = "('closed', 'evaluated')"


def get_enterprise(session: Session, enterprise_id: int, scope: Scope) -> dict[str, Any] | None:
    """The enterprise if the scope sees it, with a point on it (where its cases are put)."""
    seen, params = place_condition(scope, "e")
    row = session.execute(
        sa.text(
            f"""
            SELECT e.id, e.code, e.name, e.service_officer,
                   ST_X(ST_PointOnSurface(e.geom)) AS lon, ST_Y(ST_PointOnSurface(e.geom)) AS lat
            FROM places e WHERE e.id = :id AND e.kind = 'enterprise' AND {seen}
            """
        ),
        {**params, "id": enterprise_id},
    ).first()
    return dict(row._mapping) if row else None


def insert_visit(session: Session, values: dict[str, Any]) -> int:
    return session.execute(
        sa.text(
            """
            INSERT INTO enterprise_visits (enterprise_id, visited_on, officer, discussed,
                                           recorded_by, recorded_at)
            VALUES (:enterprise_id, :visited_on, :officer, :discussed, :recorded_by,
                    :recorded_at)
            RETURNING id
            """
        ),
        values,
    ).scalar_one()


def insert_problems(session: Session, visit_id: int, problems: list[dict[str, Any]]) -> None:
    if problems:
        session.execute(
            sa.text(
                "INSERT INTO visit_problems (visit_id, description, category_code)"
                " VALUES (:visit_id, :description, :category_code)"
            ),
            [{**p, "visit_id": visit_id} for p in problems],
        )


def known_categories(session: Session, codes: list[str]) -> set[str]:
    rows = session.execute(
        sa.text("SELECT code FROM case_categories WHERE code = ANY(:codes)"), {"codes": codes}
    )
    return set(rows.scalars())


VISITS = """
    SELECT v.id, v.enterprise_id, e.code AS enterprise_code, e.name AS enterprise_name,
           g2.code AS community_code, g3.code AS grid_code, v.visited_on, v.officer,
           v.discussed, v.recorded_by, v.recorded_at
    FROM enterprise_visits v
    JOIN places e ON e.id = v.enterprise_id
    LEFT JOIN grids g2 ON g2.id = e.second_grid_id
    LEFT JOIN grids g3 ON g3.id = e.third_grid_id
"""

VISIT_FILTERS = {
    "enterprise": "v.enterprise_id = :enterprise",
    "officer": "v.officer = :officer",
    # A grid of any level: the enterprise names one grid per level, any of them may match.
    "grid": "ARRAY[e.street_grid_id, e.second_grid_id, e.third_grid_id, e.micro_grid_id,"
    " e.dedicated_grid_id] && ARRAY(SELECT id FROM grids WHERE code = :grid)",
    "first_day": "v.visited_on >= :first_day",
    "last_day": "v.visited_on <= :last_day",
    "visit": "v.id = :visit",
}


def list_visits(
    session: Session, scope: Scope, filters: dict[str, Any], limit: int, offset: int
) -> list[dict[str, Any]]:
    """Visits to enterprises the scope sees, latest first; only the filters given apply."""
    seen, params = place_condition(scope, "e")
    given = {k: v for k, v in filters.items() if v is not None}
    where = " AND ".join([seen, *(VISIT_FILTERS[k] for k in given)])
    rows = session.execute(
        sa.text(
            VISITS + f" WHERE {where} ORDER BY v.visited_on DESC, v.id DESC"
            " LIMIT :limit OFFSET :offset"
        ),
        {**params, **given, "limit": limit, "offset": offset},
    )
    return [dict(r._mapping) for r in rows]


PROBLEMS = f"""
    SELECT p.id, p.visit_id, p.description, p.category_code, p.case_id,
           c.status AS case_status, coalesce(c.status IN {SOLVED}, false) AS solved
    FROM visit_problems p LEFT JOIN cases c ON c.id = p.case_id
"""


def problems_of(session: Session, visit_ids: list[int]) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.text(PROBLEMS + " WHERE p.visit_id = ANY(:ids) ORDER BY p.id"), {"ids": visit_ids}
    )
    return [dict(r._mapping) for r in rows]


def get_problem(session: Session, problem_id: int, scope: Scope) -> dict[str, Any] | None:
    """The problem, locked (one case per problem, even when two people try at once), if the
    scope sees its enterprise; with the visit and the enterprise it belongs to."""
    seen, params = place_condition(scope, "e")
    row = session.execute(
        sa.text(
            f"""
            SELECT p.id, p.visit_id, p.description, p.category_code, p.case_id,
                   v.enterprise_id, v.visited_on
            FROM visit_problems p
            JOIN enterprise_visits v ON v.id = p.visit_id
            JOIN places e ON e.id = v.enterprise_id
            WHERE p.id = :id AND {seen}
            FOR UPDATE OF p
            """
        ),
        {**params, "id": problem_id},
    ).first()
    return dict(row._mapping) if row else None


def problem(session: Session, problem_id: int) -> dict[str, Any]:
    return dict(
        session.execute(sa.text(PROBLEMS + " WHERE p.id = :id"), {"id": problem_id}).one()._mapping
    )


def link_case(session: Session, problem_id: int, case_id: int) -> None:
    session.execute(
        sa.text("UPDATE visit_problems SET case_id = :case WHERE id = :id"),
        {"id": problem_id, "case": case_id},
    )


def grid_exists(session: Session, code: str) -> bool:
    return bool(
        session.execute(
            sa.text("SELECT 1 FROM grids WHERE code = :code AND valid_to IS NULL"), {"code": code}
        ).first()
    )


# Every enterprise the scope sees, with its community and third-level grid, how often it was
# visited in the period and when it was last visited up to the period's end.
ENTERPRISES_IN_PERIOD = """
    SELECT e.id, e.code, e.name, e.service_officer, e.key_tax_source, e.above_scale,
           g2.code AS community_code, g2.name AS community_name,
           g3.code AS grid_code, g3.name AS grid_name,
           count(v.id) FILTER (WHERE v.visited_on >= :first_day) AS visits,
           max(v.visited_on) AS last_visited_on
    FROM places e
    LEFT JOIN grids g2 ON g2.id = e.second_grid_id
    LEFT JOIN grids g3 ON g3.id = e.third_grid_id
    LEFT JOIN enterprise_visits v ON v.enterprise_id = e.id AND v.visited_on <= :last_day
    WHERE e.kind = 'enterprise' AND {seen}
    GROUP BY e.id, g2.code, g2.name, g3.code, g3.name
    ORDER BY g2.code NULLS LAST, g3.code NULLS LAST, e.name, e.id
"""


def enterprises_in_period(
    session: Session, scope: Scope, first_day: date, last_day: date
) -> list[dict[str, Any]]:
    seen, params = place_condition(scope, "e")
    rows = session.execute(
        sa.text(ENTERPRISES_IN_PERIOD.format(seen=seen)),
        {**params, "first_day": first_day, "last_day": last_day},
    )
    return [dict(r._mapping) for r in rows]


# The period's visits to enterprises the scope sees, each with its problems counted: raised,
# turned into a case, solved.
VISITS_IN_PERIOD = f"""
    SELECT v.id, v.enterprise_id, v.officer,
           count(p.id) AS raised,
           count(p.case_id) AS with_case,
           count(p.id) FILTER (WHERE c.status IN {SOLVED}) AS solved
    FROM enterprise_visits v
    JOIN places e ON e.id = v.enterprise_id
    LEFT JOIN visit_problems p ON p.visit_id = v.id
    LEFT JOIN cases c ON c.id = p.case_id
    WHERE v.visited_on BETWEEN :first_day AND :last_day AND {{seen}}
    GROUP BY v.id
"""


def visits_in_period(
    session: Session, scope: Scope, first_day: date, last_day: date
) -> list[dict[str, Any]]:
    seen, params = place_condition(scope, "e")
    rows = session.execute(
        sa.text(VISITS_IN_PERIOD.format(seen=seen)),
        {**params, "first_day": first_day, "last_day": last_day},
    )
    return [dict(r._mapping) for r in rows]
