"""SQL for case indicators: one set-based statement over the cases of a period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

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

CLOSED = "c.status IN ('closed', 'evaluated')"
OPEN = "c.status NOT IN ('parked', 'closed', 'evaluated', 'voided', 'merged')"
HANDLED = "c.reported_back_at IS NOT NULL"
VOIDED_VALID = "(c.status = 'voided' AND c.voided_valid)"
SELF_HANDLED = f"({CLOSED} AND c.filed_at IS NULL)"

# The counts per case row; every indicator is a ratio of two of them (see indicators.py).
# Each case is counted once per count, so a numerator never exceeds its denominator.
COUNTS = {
    "reports": "count(*)",
    "filed": "count(*) FILTER (WHERE c.filed_at IS NOT NULL)",
    "closed": f"count(*) FILTER (WHERE {CLOSED})",
    "closed_on_time": f"count(*) FILTER (WHERE {CLOSED} AND c.late_steps = 0)",
    "self_handled": f"count(*) FILTER (WHERE {SELF_HANDLED})",
    "awaiting_closure": f"count(*) FILTER (WHERE c.filed_at IS NOT NULL AND {OPEN})",
    "parked": "count(*) FILTER (WHERE c.status = 'parked')",
    "voided": "count(*) FILTER (WHERE c.status = 'voided')",
    "voided_valid": f"count(*) FILTER (WHERE {VOIDED_VALID})",
    "merged": "count(*) FILTER (WHERE c.status = 'merged')",
    "valid_reports": (
        f"count(*) FILTER (WHERE c.filed_at IS NOT NULL OR {VOIDED_VALID} OR {SELF_HANDLED})"
    ),
    "dispatched": "count(*) FILTER (WHERE c.dispatched_at IS NOT NULL)",
    "extended": "count(*) FILTER (WHERE c.dispatched_at IS NOT NULL AND c.extension_count > 0)",
    "handled": f"count(*) FILTER (WHERE {HANDLED})",
    "reworked": f"count(*) FILTER (WHERE {HANDLED} AND c.rework_count > 0)",
    "timed": f"count(*) FILTER (WHERE {HANDLED} AND c.dispatched_at IS NOT NULL)",
    "handling_s": (
        "sum(extract(epoch FROM c.reported_back_at - c.dispatched_at))"
        f" FILTER (WHERE {HANDLED} AND c.dispatched_at IS NOT NULL)"
    ),
    "overdue": f"count(*) FILTER (WHERE {OPEN} AND c.due_at < :as_of)",
    "rated": "count(c.satisfaction)",
    "satisfied": "count(*) FILTER (WHERE c.satisfaction >= 4)",
    "satisfaction_sum": "sum(c.satisfaction)",
}
SUMS = ("handling_s",)  # not whole numbers

# Hand-shaped: the cases of the period are aggregated per stored key first (a grid id, unit
# code or reporter; one scan, a hash aggregate PostgreSQL can run in parallel), and only those
# few rows are mapped to their group and added up, with the total row from ROLLUP. Joining
# grids to every case instead would cost a join per case for the same answer.
INDICATORS = """
    WITH per_key AS (
        SELECT {key} AS key, {counts}
        FROM cases c
        WHERE c.reported_at >= :start AND c.reported_at < :end
        GROUP BY 1
    )
    SELECT GROUPING(grp.code, grp.name) <> 0 AS is_total, grp.code, grp.name, {sums}
    FROM per_key k
    LEFT JOIN LATERAL ({group}) grp ON true
    GROUP BY ROLLUP ((grp.code, grp.name))
    ORDER BY is_total, grp.code NULLS LAST
"""


def indicator_sql(by: str) -> str:
    key, group = GROUPINGS[by]
    counts = ", ".join(f"{expr} AS {name}" for name, expr in COUNTS.items())
    sums = ", ".join(
        f"sum(k.{name})" + ("" if name in SUMS else "::bigint") + f" AS {name}" for name in COUNTS
    )
    return INDICATORS.format(key=key, counts=counts, group=group, sums=sums)


def indicator_rows(
    session: Session, by: str, start: datetime, end: datetime, as_of: datetime
) -> list[dict[str, Any]]:
    """One row of counts per group and a last row (is_total) for all cases of [start, end)."""
    rows = session.execute(sa.text(indicator_sql(by)), {"start": start, "end": end, "as_of": as_of})
    return [dict(r._mapping) for r in rows]
