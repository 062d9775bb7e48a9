"""SQL for case indicators: one set-based statement over the cases of a period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope, case_condition

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
