"""Typed dependencies: one session (and transaction) per request, settings, bbox parsing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from onegrid.errors import InvalidInput
from onegrid.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back on error."""
    factory = request.app.state.session_factory
    with factory() as session, session.begin():
        yield session


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def parse_bbox(
    bbox: Annotated[
        str | None,
        Query(
            description="minlon,minlat,maxlon,maxlat in WGS 84",
            examples=["113.66,34.76,113.70,34.80"],
        ),
    ] = None,
) -> tuple[float, float, float, float] | None:
    if bbox is None or bbox == "":
        return None
    try:
        parts = tuple(float(p) for p in bbox.split(","))
    except ValueError as exc:
        raise InvalidInput(
            f"bbox must be four numbers minlon,minlat,maxlon,maxlat, got {bbox!r}", field="bbox"
        ) from exc
    if len(parts) != 4:
        raise InvalidInput(
            f"bbox must be four numbers minlon,minlat,maxlon,maxlat, got {bbox!r}", field="bbox"
        )
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput(
            f"bbox {bbox!r} is not minlon,minlat,maxlon,maxlat within lon [-180,180], lat [-90,90]",
            field="bbox",
        )
    return (minx, miny, maxx, maxy)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(parse_bbox)]
