"""Typed dependencies: one session (and transaction) per request, settings, the clock, the
work calendar, the acting person, bbox parsing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onegrid.auth import service as auth_service
from onegrid.auth.actor import ROLES, Actor
from onegrid.cases.deadlines import WorkCalendar
from onegrid.errors import InvalidInput, NotAuthenticated
from onegrid.settings import Settings

T = TypeVar("T")


async def in_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on one worker thread, committed before return.

    For the hottest routes (a session dependency plus a plain endpoint cost three hops to a
    worker thread per request: open, handle, commit; this is one), and where the answer is
    decided after the commit (a failed sign-in is counted, then refused).
    """

    def run() -> T:
        with request.app.state.session_factory() as session, session.begin():
            return work(session)

    return await run_in_threadpool(run)


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back on error."""
    factory = request.app.state.session_factory
    with factory() as session, session.begin():
        yield session


# The dependencies below do no I/O: as async functions they run on the event loop, where a
# plain function would cost a hop to a worker thread each, on every request.
async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def current_time(request: Request) -> datetime:
    """Now, from the app's clock (tests set one to walk deadlines through time)."""
    return request.app.state.clock()


async def work_calendar(request: Request) -> WorkCalendar:
    return request.app.state.calendar


async def optional_actor(
    request: Request,
    authorization: Annotated[str | None, Header(max_length=4096)] = None,
    x_onegrid_user: Annotated[str | None, Header(max_length=100)] = None,
    x_onegrid_role: Annotated[str | None, Header()] = None,
    x_onegrid_unit: Annotated[str | None, Header(max_length=100)] = None,
) -> Actor | None:
    """The acting person: from a bearer token, or (in development only) declared in the
    X-OneGrid-User / -Role / -Unit headers; None when the request names nobody."""
    settings: Settings = request.app.state.settings
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Authorization must be 'Bearer <access token>'")
        now = request.app.state.clock()
        return await in_transaction(
            request,
            lambda session: auth_service.actor_from_token(
                session, token.strip(), now=now, settings=settings
            ),
        )
    if not x_onegrid_user and not x_onegrid_role:
        return None
    if not settings.actor_headers_trusted:
        raise NotAuthenticated(
            "sign in (POST /api/auth/token) and send Authorization: Bearer <token>; the"
            " X-OneGrid-* headers are for development only"
        )
    if not x_onegrid_user or not x_onegrid_role:
        missing = "X-OneGrid-Role" if x_onegrid_user else "X-OneGrid-User"
        raise InvalidInput(f"{missing} is needed with the other actor header", field=missing)
    if x_onegrid_role not in ROLES:
        raise InvalidInput(
            f"unknown role {x_onegrid_role!r}; roles are {', '.join(ROLES)}",
            field="X-OneGrid-Role",
        )
    name = _header_text(x_onegrid_user, "X-OneGrid-User")
    unit = _header_text(x_onegrid_unit, "X-OneGrid-Unit") if x_onegrid_unit else None
    return Actor(name=name, role=x_onegrid_role, unit_code=unit)


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    """The acting person, required."""
    if actor is None:
        raise NotAuthenticated(
            "sign in (POST /api/auth/token) and send Authorization: Bearer <token>"
        )
    return actor


def _header_text(value: str, header: str) -> str:
    """Header bytes arrive decoded as Latin-1; a Chinese name sent as UTF-8 is decoded back."""
    try:
        text = value.encode("latin-1").decode("utf-8")
    except UnicodeError as exc:
        raise InvalidInput(f"{header} must be UTF-8 text", field=header) from exc
    if not text.strip() or any(ord(c) < 32 for c in text):
        raise InvalidInput(f"{header} must be a name without control characters", field=header)
    return text.strip()


async def parse_bbox(
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


# scope="function": the transaction commits when the handler returns, before the answer is
# sent, so a client that got 201 can read its case at once (and a failed commit is a 5xx,
# never a success that did not happen).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ClockDep = Annotated[datetime, Depends(current_time)]
CalendarDep = Annotated[WorkCalendar, Depends(work_calendar)]
ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(parse_bbox)]
