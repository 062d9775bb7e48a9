"""Indicator endpoints: the rankings leaders look at, per street, community, grid, unit, worker."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from onegrid.api.deps import ClockDep, SessionDep, signed_in_as
from onegrid.auth.actor import Actor
from onegrid.auth.scope import PLACE_READERS, STAFF, place_scope, scope_of
from onegrid.stats import indicators, registry

router = APIRouter(prefix="/api", tags=["indicators"])

# Dates and times are read by the service, so that an unreadable one is refused with the
# same message and field name here and on the command line.
MOMENT = "a date (midnight, Beijing time) or a date and time, e.g. 2025-01-01T08:00:00+08:00"


@router.get("/indicators")
def case_indicators(
    session: SessionDep,
    now: ClockDep,
    actor: Annotated[Actor, Depends(signed_in_as(STAFF, "read indicators"))],
    from_: Annotated[
        str, Query(alias="from", max_length=40, description=f"cases reported from: {MOMENT}")
    ],
    to: Annotated[str, Query(max_length=40, description=f"... until (excluded): {MOMENT}")],
    by: Annotated[str, Query(max_length=20, description=", ".join(indicators.GROUPINGS))],
    as_of: Annotated[
        str | None,
        Query(max_length=40, description=f"when a case counts as overdue; default now: {MOMENT}"),
    ] = None,
) -> dict:
    """结案率, 按期结案率, 返工率, 延期率, 超期, 有效上报率, 处置时长 and 满意度 per group and in
    total, each rate with its numerator and denominator, and the formulas used."""
    query = indicators.indicator_query(from_, to, by, as_of, now)
    return indicators.case_indicators(session, query, scope=scope_of(actor))


# --- registry statistics ---------------------------------------------------------------------


@router.get("/registry/stats", tags=["registry"])
def registry_statistics(
    session: SessionDep,
    now: ClockDep,
    actor: Annotated[Actor, Depends(signed_in_as(PLACE_READERS, "read registry statistics"))],
    quarter: Annotated[
        str | None,
        Query(
            max_length=10,
            description="visits counted in this quarter, e.g. 2026Q4; default: the current one",
        ),
    ] = None,
) -> dict:
    """网格, 下沉部门, 网格力量, 事项清单, 物业公司, 红色物业认领, 企业走访 and 企业诉求 figures,
    counted over what you see."""
    return registry.registry_stats(session, scope=place_scope(actor), quarter=quarter, now=now)
