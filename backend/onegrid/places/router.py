"""Place endpoints: the registry of buildings, courtyards, merchants, enterprises, sites and
resident units as GeoJSON; one place; add, edit, export."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from onegrid.api.deps import BBoxDep, ClockDep, SessionDep, in_transaction, signed_in_as
from onegrid.auth.actor import Actor
from onegrid.auth.scope import PLACE_READERS, place_scope
from onegrid.places import service
from onegrid.places.schemas import (
    PlaceCreate,
    PlaceFeature,
    PlaceFeatureCollection,
    PlaceKind,
    PlaceUpdate,
)

router = APIRouter(prefix="/api", tags=["places"])

Reader = Annotated[Actor, Depends(signed_in_as(PLACE_READERS, "read the places registry"))]
Editor = Annotated[
    Actor, Depends(signed_in_as(service.PLACE_EDITORS, "add or edit places in the registry"))
]


@router.get("/places", response_model=PlaceFeatureCollection)
def list_places(
    session: SessionDep,
    actor: Reader,
    bbox: BBoxDep,
    kind: PlaceKind | None = None,
    grid: Annotated[
        str | None, Query(max_length=100, description="a grid's code: it and every grid within")
    ] = None,
    management_status: Annotated[
        Literal["property_managed", "unmanaged", "red_property"] | None, Query()
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="text in name or address")] = None,
    outside_coverage: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 5000,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> dict:
    """The places the signed-in person sees, as GeoJSON, each with its grid per level."""
    return service.list_places(
        session,
        scope=place_scope(actor),
        kind=kind,
        grid=grid,
        bbox=bbox,
        management_status=management_status,
        text=q,
        outside_coverage=outside_coverage,
        limit=limit,
        offset=offset,
    )


@router.get("/places/export", response_class=FileResponse)
async def export_places(
    request: Request,
    now: ClockDep,
    actor: Reader,
    fmt: Annotated[Literal["csv", "geojson"], Query(alias="format")] = "csv",
    kind: PlaceKind | None = None,
) -> FileResponse:
    """Every place the signed-in person sees (of one kind, or all) with its grid per level,
    as CSV (UTF-8 with a BOM for Excel; geometry as WKT) or GeoJSON; written to the audit
    log."""

    def write(session: Session) -> str:
        # A file, not a stream: the export and its audit entry commit together.
        with tempfile.NamedTemporaryFile(
            "w",
            suffix=f".{fmt}",
            delete=False,
            newline="",
            encoding="utf-8-sig" if fmt == "csv" else "utf-8",
        ) as out:
            try:
                service.export_places(session, out, fmt, by=actor, now=now, kind=kind)
            except BaseException:
                os.unlink(out.name)
                raise
        return out.name

    path = await in_transaction(request, write)
    return FileResponse(
        path,
        media_type="text/csv" if fmt == "csv" else "application/geo+json",
        filename=f"places-{kind or 'all'}-{now:%Y%m%d}.{fmt}",
        background=BackgroundTask(os.unlink, path),
    )


@router.get("/places/{place_id}", response_model=PlaceFeature)
def get_place(place_id: int, session: SessionDep, actor: Reader) -> dict:
    """One place with its grids by code and name per level (404 outside one's scope)."""
    return service.view_place(session, place_id, scope=place_scope(actor))


@router.post("/places", response_model=PlaceFeature, status_code=status.HTTP_201_CREATED)
def create_place(body: PlaceCreate, session: SessionDep, actor: Editor, now: ClockDep) -> dict:
    """Add a place; it is assigned to its grids at once (at a point on its surface)."""
    return service.create_place(session, body.model_dump(exclude_unset=True), actor=actor, now=now)


@router.patch("/places/{place_id}", response_model=PlaceFeature)
def update_place(
    place_id: int, body: PlaceUpdate, session: SessionDep, actor: Editor, now: ClockDep
) -> dict:
    """Change the fields sent (null clears one); a new geometry is re-assigned at once."""
    return service.update_place(
        session, place_id, body.model_dump(exclude_unset=True), actor=actor, now=now
    )
