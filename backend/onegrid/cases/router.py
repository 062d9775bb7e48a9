"""Case endpoints: layers by grid, bbox and status; one case; report a case; point lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from onegrid.api.deps import BBoxDep, SessionDep, SettingsDep
from onegrid.cases import service
from onegrid.cases.schemas import CaseCreate, CaseFeatureCollection, CaseRead, PointLookup

router = APIRouter(prefix="/api", tags=["cases"])


@router.get("/cases", response_model=CaseFeatureCollection)
def list_cases(
    session: SessionDep,
    bbox: BBoxDep,
    grid: Annotated[str | None, Query(description="code of a grid at any level")] = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    outside_coverage: bool | None = None,
    # Bounded so that one response cannot grow the server by hundreds of MB; page with offset.
    limit: Annotated[int, Query(ge=1, le=20_000)] = 5000,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> dict:
    """Cases as GeoJSON points (geometry null for cases without a location)."""
    rows = service.list_cases(
        session,
        grid=grid,
        bbox=bbox,
        status=status_,
        outside_coverage=outside_coverage,
        limit=limit,
        offset=offset,
    )
    return {"type": "FeatureCollection", "features": [service.case_feature(r) for r in rows]}


@router.get("/cases/{case_id}", response_model=CaseRead)
def get_case(case_id: int, session: SessionDep) -> dict:
    return service.get_case(session, case_id)


@router.post("/cases", response_model=CaseRead, status_code=status.HTTP_201_CREATED)
def create_case(body: CaseCreate, session: SessionDep, settings: SettingsDep) -> dict:
    """Report a case; it is assigned to one grid per level before the answer."""
    return service.create_case(session, body.model_dump())


@router.get("/lookup", response_model=PointLookup)
def lookup(
    session: SessionDep,
    settings: SettingsDep,
    lon: Annotated[float, Query(allow_inf_nan=False)],
    lat: Annotated[float, Query(allow_inf_nan=False)],
    crs: Annotated[str, Query(max_length=64)] = "wgs84",
) -> dict:
    """Which grid of each level covers a point (the rule a new case there would get)."""
    return service.lookup(session, lon, lat, crs)
