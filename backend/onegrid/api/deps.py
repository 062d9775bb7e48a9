"""Typed dependencies: one session (and transaction) per request, settings, the clock, the
work calendar, the acting person, bbox parsing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, TypeVar

import anyio.to_thread
from fastapi import Depends, Header, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onegrid.auth import service as auth_service
from onegrid.auth.actor import ROLES, Actor
from onegrid.auth.scope import Scope, scope_of
from onegrid.cases.deadlines import WorkCalendar
from onegrid.errors import Forbidden, InvalidInput, NotAuthenticated, TooManyRequests
from onegrid.settings import Settings

T = TypeVar("T")


async def in_transaction(
    request: Request, work: Callable[[Session], T], *, checks_password: bool = False
) -> T:
    """Run `work(session)` in one transaction on one worker thread, committed before return.

    For the hottest routes (a session dependency plus a plain endpoint cost three hops to a
    worker thread per request: open, handle, commit; this is one), and where the answer is
    decided after the commit (a failed sign-in is counted, then refused). Work that
    `checks_password` waits for one of the few password-check places first.
    """

    def run() -> T:
        with request.app.state.session_factory() as session, session.begin():
            return work(session)

    if checks_password:
        limiter = _password_checks(request)
        # A queue without end would let a flood of wrong passwords from many addresses keep
        # staff waiting a minute to sign in; past a short queue the answer is "try again".
        if limiter.statistics().tasks_waiting >= request.app.state.settings.password_checks_queue:
            raise TooManyRequests(
                "the server is checking many passwords at once; try again in a few seconds",
                retry_after_s=2,
            )
        return await anyio.to_thread.run_sync(run, limiter=limiter)
    return await run_in_threadpool(run)


def _password_checks(request: Request) -> anyio.CapacityLimiter:
    """The app's password-check places, made in the running event loop on first use."""
    state = request.app.state
    if getattr(state, "password_checks", None) is None:
        state.password_checks = anyio.CapacityLimiter(state.settings.password_checks_at_once)
    return state.password_checks


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


SIGN_IN_FIRST = "sign in (POST /api/auth/token) and send Authorization: Bearer <token>"


@dataclass(frozen=True)
class Credentials:
    """What a request presents: its bearer token (not yet checked) and where it comes from."""

    token: str
    client: str | None


async def bearer_credentials(
    request: Request,
    authorization: Annotated[str | None, Header(max_length=4096)] = None,
) -> Credentials | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Authorization must be 'Bearer <access token>'")
    return Credentials(token.strip(), request.client.host if request.client else None)


async def required_credentials(
    credentials: Annotated[Credentials | None, Depends(bearer_credentials)],
) -> Credentials:
    if credentials is None:
        raise NotAuthenticated(SIGN_IN_FIRST)
    return credentials


def signed_in(session: Session, request: Request, credentials: Credentials) -> Actor:
    """The person the credentials name, if the token is valid and the account still stands.

    Routes that do their work in one transaction (in_transaction) call this inside it, which
    saves the hop and the transaction of a separate check."""
    actor = auth_service.actor_from_token(
        session,
        credentials.token,
        now=request.app.state.clock(),
        settings=request.app.state.settings,
    )
    return replace(actor, client=credentials.client)


def require_role(
    actor: Actor, roles: frozenset[str], doing: str, field: str | None = None
) -> Actor:
    """The actor, if their role may do this at all (else 403)."""
    if actor.role not in roles:
        raise Forbidden(f"a {ROLES.get(actor.role, actor.role)} may not {doing}", field=field)
    return actor


CredentialsDep = Annotated[Credentials, Depends(required_credentials)]


async def optional_actor(
    request: Request, credentials: Annotated[Credentials | None, Depends(bearer_credentials)]
) -> Actor | None:
    """The signed-in person from the bearer token; None when the request carries none."""
    if credentials is None:
        return None
    return await in_transaction(request, lambda session: signed_in(session, request, credentials))


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    """The signed-in person, required."""
    if actor is None:
        raise NotAuthenticated(SIGN_IN_FIRST)
    return actor


async def actor_scope(actor: Annotated[Actor, Depends(current_actor)]) -> Scope:
    """The part of the street the signed-in person sees in the staff views (auth/scope.py)."""
    if actor.role == "resident":
        raise Forbidden("residents follow their reports at GET /api/reports")
    return scope_of(actor)


def signed_in_as(roles: frozenset[str], doing: str) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the signed-in person, if their role may do this at all (else 403)."""

    async def check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        return require_role(actor, roles, doing)

    return check


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
ScopeDep = Annotated[Scope, Depends(actor_scope)]
BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(parse_bbox)]
