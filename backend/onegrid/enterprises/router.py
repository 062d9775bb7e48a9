"""Enterprise service endpoints (万人助万企): visits, problems into cases, visit coverage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from onegrid.api.deps import CalendarDep, ClockDep, SessionDep, SettingsDep, signed_in_as
from onegrid.auth.actor import Actor
from onegrid.auth.scope import place_scope
from onegrid.enterprises import service
from onegrid.enterprises.schemas import (
    ProblemCaseCreate,
    ProblemCaseRead,
    VisitCoverage,
    VisitCreate,
    VisitRead,
)

router = APIRouter(prefix="/api/enterprise-service", tags=["enterprise service"])

Reader = Annotated[Actor, Depends(signed_in_as(service.READERS, "read enterprise visits"))]
Recorder = Annotated[
    Actor, Depends(signed_in_as(service.RECORDERS, "record enterprise visits or problems"))
]
DATE = "a date such as 2026-10-01 (included)"


@router.post("/visits", response_model=VisitRead, status_code=status.HTTP_201_CREATED)
def record_visit(body: VisitCreate, session: SessionDep, actor: Recorder, now: ClockDep) -> dict:
    """A visit to an enterprise of the person's grids: date, officer, what was discussed and
    the problems raised (each may become a case: POST /problems/{id}/case)."""
    return service.record_visit(session, body.model_dump(), actor=actor, now=now)


@router.get("/visits", response_model=list[VisitRead])
def list_visits(
    session: SessionDep,
    actor: Reader,
    enterprise: Annotated[int | None, Query(ge=1, description="an enterprise id")] = None,
    officer: Annotated[str | None, Query(max_length=100)] = None,
    grid: Annotated[str | None, Query(max_length=100, description="a grid of any level")] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=10, description=DATE)] = None,
    to: Annotated[str | None, Query(max_length=10, description=DATE)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict]:
    """Visits to the enterprises the person sees, latest first, with their problems."""
    return service.list_visits(
        session,
        scope=place_scope(actor),
        enterprise=enterprise,
        officer=officer,
        grid=grid,
        from_=from_,
        to=to,
        limit=limit,
        offset=offset,
    )


@router.get("/visits/{visit_id}", response_model=VisitRead)
def get_visit(visit_id: int, session: SessionDep, actor: Reader) -> dict:
    return service.get_visit(session, visit_id, scope=place_scope(actor))


@router.post(
    "/problems/{problem_id}/case",
    response_model=ProblemCaseRead,
    status_code=status.HTTP_201_CREATED,
)
def problem_to_case(
    problem_id: int,
    body: ProblemCaseCreate,
    session: SessionDep,
    actor: Recorder,
    now: ClockDep,
    calendar: CalendarDep,
    settings: SettingsDep,
) -> dict:
    """Report a visit's problem as a case (source enterprise_service) at the enterprise: it
    is assigned and goes through the workflow like any case; 409 if it already is one."""
    return service.problem_to_case(
        session,
        problem_id,
        body.model_dump(),
        actor=actor,
        now=now,
        calendar=calendar,
        settings=settings,
    )


@router.get("/coverage", response_model=VisitCoverage)
def visit_coverage(
    session: SessionDep,
    actor: Reader,
    now: ClockDep,
    quarter: Annotated[
        str | None, Query(max_length=10, description="e.g. 2026Q4; default: this quarter")
    ] = None,
) -> dict:
    """走访覆盖: per community, third-level grid and officer, the enterprises visited at
    least once in the quarter, problems raised and solved; the enterprises not yet visited."""
    return service.visit_coverage(session, quarter, scope=place_scope(actor), now=now)
