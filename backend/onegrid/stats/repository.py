"""SQL for case indicators (one set-based statement over the cases of a period) and for the
registry statistics (grids, staff, responsibility items, courtyards, enterprises)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope, case_condition, place_condition
from onegrid.duties.repository import grid_code_condition

# What each grouping aggregates on (a column of the case row) and how a key becomes a group
# (code and name). Grid ids become codes: a case keeps the boundary version it was assigned
# under, and every version of a code is one group, named as its latest version is.
GRID_GROUP = """
    SELECT g.code,
           (SELECT latest.name FROM grids latest
            WHERE latest.code = g.code AND latest.level = g.level
            ORDER BY latest.valid_to IS NULL DESC, latest.version DESC LIMIT 1) AS name
    FROM grids g WHERE g.id = k.key
"""
GROUPINGS = {
    "street": ("c.street_grid_id", GRID_GROUP),
    "community": ("c.second_grid_id", GRID_GROUP),
    "grid": ("c.third_grid_id", GRID_GROUP),
    "unit": ("c.unit_code", "SELECT u.code, u.name FROM units u WHERE u.code = k.key"),
    "worker": ("c.reporter", "SELECT k.key AS code, k.key AS name"),
}

# Facts about the cases of one key (grid id, unit code or reporter) and one status, counted
# in the scan of the period's cases. Status conditions are left to COUNTS, which see only the
# few (key, status) rows: that keeps the per-case work, which is what costs, small.
FACTS = {
    "n": "count(*)",
    "filed": "count(*) FILTER (WHERE c.filed_at IS NOT NULL)",
    "on_time": "count(*) FILTER (WHERE c.late_steps = 0)",
    "voided_valid": "count(*) FILTER (WHERE c.voided_valid)",
    # A closed case not filed is self-handled (自处理): valid too.
    "valid": "count(*) FILTER (WHERE c.filed_at IS NOT NULL OR c.voided_valid"
    " OR c.status IN ('closed', 'evaluated'))",
    "dispatched": "count(*) FILTER (WHERE c.dispatched_at IS NOT NULL)",
    "extended": "count(*) FILTER (WHERE c.dispatched_at IS NOT NULL AND c.extension_count > 0)",
    "handled": "count(*) FILTER (WHERE c.reported_back_at IS NOT NULL)",
    "reworked": "count(*) FILTER (WHERE c.reported_back_at IS NOT NULL AND c.rework_count > 0)",
    "timed": "count(c.reported_back_at - c.dispatched_at)",
    "handling_s": "sum(extract(epoch FROM c.reported_back_at - c.dispatched_at))",
    "due": "count(*) FILTER (WHERE c.due_at < :as_of)",
    "rated": "count(c.satisfaction)",
    "satisfied": "count(*) FILTER (WHERE c.satisfaction >= 4)",
    "satisfaction_sum": "sum(c.satisfaction)",
}

CLOSED = "k.status IN ('closed', 'evaluated')"
OPEN = "k.status NOT IN ('parked', 'closed', 'evaluated', 'voided', 'merged')"

# The counts per group; every indicator is a ratio of two of them (see indicators.py). Each
# case is counted once per count, so a numerator never exceeds its denominator.
COUNTS = {
    "reports": "sum(k.n)",
    "filed": "sum(k.filed)",
    "closed": f"sum(k.n) FILTER (WHERE {CLOSED})",
    "closed_on_time": f"sum(k.on_time) FILTER (WHERE {CLOSED})",
    "self_handled": f"sum(k.n - k.filed) FILTER (WHERE {CLOSED})",
    "awaiting_closure": f"sum(k.filed) FILTER (WHERE {OPEN})",
    "parked": "sum(k.n) FILTER (WHERE k.status = 'parked')",
    "voided": "sum(k.n) FILTER (WHERE k.status = 'voided')",
    "voided_valid": "sum(k.voided_valid)",
    "merged": "sum(k.n) FILTER (WHERE k.status = 'merged')",
    "valid_reports": "sum(k.valid)",
    "dispatched": "sum(k.dispatched)",
    "extended": "sum(k.extended)",
    "handled": "sum(k.handled)",
    "reworked": "sum(k.reworked)",
    "timed": "sum(k.timed)",
    "handling_s": "sum(k.handling_s)",
    "overdue": f"sum(k.due) FILTER (WHERE {OPEN})",
    "rated": "sum(k.rated)",
    "satisfied": "sum(k.satisfied)",
    "satisfaction_sum": "sum(k.satisfaction_sum)",
}
SUMS = ("handling_s",)  # not whole numbers

# Hand-shaped for speed: the period's cases are reduced to one row per stored key and status
# by a hash aggregate PostgreSQL runs in parallel; mapping keys to groups, the counts and the
# total row (ROLLUP) then work on those few rows. Grouping by each fact instead makes the
# planner expect a row per case and give up parallelism; joining grids to every case adds a
# join per case for the same answer.
INDICATORS = """
    WITH facts AS (
        SELECT {key} AS key, c.status, {facts}
        FROM cases c
        WHERE c.reported_at >= :start AND c.reported_at < :end AND {seen}
        GROUP BY 1, 2
    )
    SELECT GROUPING(grp.code, grp.name) <> 0 AS is_total, grp.code, grp.name, {counts}
    FROM facts k
    LEFT JOIN LATERAL ({group}) grp ON true
    GROUP BY ROLLUP ((grp.code, grp.name))
    ORDER BY is_total, grp.code NULLS LAST
"""


def indicator_sql(by: str, seen: str = "TRUE") -> str:
    key, group = GROUPINGS[by]
    return INDICATORS.format(
        key=key,
        seen=seen,
        facts=", ".join(f"{expr} AS {name}" for name, expr in FACTS.items()),
        counts=", ".join(
            expr + ("" if name in SUMS else "::bigint") + f" AS {name}"
            for name, expr in COUNTS.items()
        ),
        group=group,
    )


def indicator_rows(
    session: Session, by: str, start: datetime, end: datetime, as_of: datetime, scope: Scope
) -> list[dict[str, Any]]:
    """One row of counts per group and a last row (is_total) for the cases of [start, end)
    that `scope` sees."""
    seen, params = case_condition(scope)
    rows = session.execute(
        sa.text(indicator_sql(by, seen)), {**params, "start": start, "end": end, "as_of": as_of}
    )
    return [dict(r._mapping) for r in rows]


# --- registry statistics: the street's reporting questions about its grids and places -------
# Each statement answers one question over the rows the scope sees: grids through
# grid_code_condition (territory staff: their subtree), places through place_condition.

GRIDS_PER_LEVEL = """
    SELECT g.level, count(*) AS n FROM grids g
    WHERE g.valid_to IS NULL AND {grids_seen}
    GROUP BY g.level
"""

STAFF_PER_DUTY = """
    SELECT s.duty, count(*) AS n FROM grid_staff s
    WHERE s.active AND {staff_seen}
    GROUP BY s.duty
"""

# A department is sunk into the grids when it serves one (unit_grids) or has staff working in
# one (下沉人员).
SUNK_DEPARTMENTS = """
    WITH served AS (
        SELECT ug.unit_code, count(*) AS grids FROM unit_grids ug
        WHERE {served_seen} GROUP BY ug.unit_code),
    sunk AS (
        SELECT s.unit_code, count(*) AS staff FROM grid_staff s
        WHERE s.active AND s.duty = 'sunk_staff' AND {staff_seen} GROUP BY s.unit_code)
    SELECT u.code, u.name, coalesce(served.grids, 0) AS grids_served,
           coalesce(sunk.staff, 0) AS sunk_staff
    FROM units u
    LEFT JOIN served ON served.unit_code = u.code
    LEFT JOIN sunk ON sunk.unit_code = u.code
    WHERE u.kind = 'department' AND (served.unit_code IS NOT NULL OR sunk.unit_code IS NOT NULL)
    ORDER BY u.code
"""

# The list is the street's one list: every reader counts all of its active items.
ITEMS_PER_LEVEL = """
    SELECT responsible_level AS level, count(*) AS n,
           count(*) FILTER (WHERE on_the_spot) AS on_the_spot
    FROM responsibility_items WHERE active
    GROUP BY responsible_level
"""

# A courtyard counts as claimed by red property (红色物业) when its status says so or an
# approved claim stands, whichever of the two the claim workflow keeps; the other statuses
# count only courtyards not claimed, so the groups add up to the total.
COURTYARDS = """
    SELECT count(*) AS total,
           count(*) FILTER (WHERE claimed) AS red_property,
           count(*) FILTER (WHERE NOT claimed AND status = 'property_managed')
               AS property_managed,
           count(*) FILTER (WHERE NOT claimed AND status = 'unmanaged') AS unmanaged,
           count(*) FILTER (WHERE NOT claimed AND status IS NULL) AS not_recorded
    FROM (SELECT p.management_status AS status,
                 coalesce(p.management_status = 'red_property', false)
                 OR EXISTS (SELECT 1 FROM courtyard_claims k
                            WHERE k.courtyard_id = p.id AND k.status = 'approved') AS claimed
          FROM places p WHERE p.kind = 'courtyard' AND {places_seen}) y
"""

# Property companies with the courtyards (seen) they manage and their standing claims; for a
# scope narrower than the street, only the companies at work in it.
PROPERTY_COMPANIES = """
    WITH seen AS (
        SELECT p.id, p.manager_unit_code FROM places p
        WHERE p.kind = 'courtyard' AND {places_seen}),
    managed AS (
        SELECT manager_unit_code AS code, count(*) AS n FROM seen
        WHERE manager_unit_code IS NOT NULL GROUP BY manager_unit_code),
    claims AS (
        SELECT k.company_code AS code, count(*) AS n
        FROM courtyard_claims k JOIN seen ON seen.id = k.courtyard_id
        WHERE k.status = 'approved' GROUP BY k.company_code)
    SELECT u.code, u.name, u.party_branch, coalesce(managed.n, 0) AS courtyards_managed,
           coalesce(claims.n, 0) AS claims_approved
    FROM units u
    LEFT JOIN managed ON managed.code = u.code
    LEFT JOIN claims ON claims.code = u.code
    WHERE u.kind = 'property_company' AND u.active
      AND (:whole_street OR managed.code IS NOT NULL OR claims.code IS NOT NULL)
    ORDER BY u.code
"""

# Key enterprises (重点税源 or 规上) and those visited in the quarter [q_from, q_to).
ENTERPRISES = """
    SELECT count(*) AS total,
           count(*) FILTER (WHERE p.key_tax_source) AS key_tax_source,
           count(*) FILTER (WHERE p.above_scale) AS above_scale,
           count(*) FILTER (WHERE p.key_tax_source OR p.above_scale) AS key,
           count(*) FILTER (WHERE v.visited) AS visited,
           count(*) FILTER (WHERE v.visited AND (p.key_tax_source OR p.above_scale))
               AS key_visited
    FROM places p
    CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM enterprise_visits e
                       WHERE e.enterprise_id = p.id
                         AND e.visited_on >= :q_from AND e.visited_on < :q_to) AS visited) v
    WHERE p.kind = 'enterprise' AND {places_seen}
"""

# Problems raised in visits; solved when the case made of it is closed or evaluated.
VISIT_PROBLEMS = """
    SELECT count(*) AS raised, count(vp.case_id) AS became_cases,
           count(*) FILTER (WHERE c.status IN ('closed', 'evaluated')) AS solved
    FROM visit_problems vp
    JOIN enterprise_visits e ON e.id = vp.visit_id
    JOIN places p ON p.id = e.enterprise_id
    LEFT JOIN cases c ON c.id = vp.case_id
    WHERE {places_seen}
"""


def registry_figures(
    session: Session, scope: Scope, quarter: tuple[Any, Any]
) -> dict[str, list[dict[str, Any]]]:
    """The rows of every registry statement for `scope`; `quarter` is [from, to) in dates."""
    grids_seen, params = grid_code_condition(scope, "g.code")
    staff_seen, _ = grid_code_condition(scope, "s.grid_code")
    served_seen, _ = grid_code_condition(scope, "ug.grid_code")
    places_seen, place_params = place_condition(scope, "p")
    params = {
        **params,
        **place_params,
        "whole_street": scope.whole_street,
        "q_from": quarter[0],
        "q_to": quarter[1],
    }
    conditions = {
        "grids_seen": grids_seen,
        "staff_seen": staff_seen,
        "served_seen": served_seen,
        "places_seen": places_seen,
    }
    statements = {
        "grids": GRIDS_PER_LEVEL,
        "staff": STAFF_PER_DUTY,
        "departments": SUNK_DEPARTMENTS,
        "items": ITEMS_PER_LEVEL,
        "courtyards": COURTYARDS,
        "companies": PROPERTY_COMPANIES,
        "enterprises": ENTERPRISES,
        "problems": VISIT_PROBLEMS,
    }
    return {
        key: [dict(r._mapping) for r in session.execute(sa.text(sql.format(**conditions)), params)]
        for key, sql in statements.items()
    }
