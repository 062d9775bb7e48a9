"""App factory: create_app(settings) -> FastAPI, with the routers and the map page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from onegrid import __version__
from onegrid.api.limits import BodySizeLimit, NulInUrl, SecurityHeaders
from onegrid.api.ratelimit import ClientLimits
from onegrid.auth.router import router as auth_router
from onegrid.cases.deadlines import TIME_ZONE, WorkCalendar
from onegrid.cases.router import router as cases_router
from onegrid.db.engine import make_engine, resolve_database_url, session_factory
from onegrid.duties.router import router as duties_router
from onegrid.enterprises.router import router as enterprises_router
from onegrid.errors import OneGridError, TooManyRequests, http_status_for
from onegrid.grids import repository as grids_repo
from onegrid.grids.router import router as grids_router
from onegrid.places.router import router as places_router
from onegrid.redproperty.router import router as redproperty_router
from onegrid.reports.router import router as reports_router
from onegrid.settings import Settings, get_settings
from onegrid.stats.router import router as stats_router
from onegrid.units.router import router as units_router

log = logging.getLogger("onegrid")


def _problem(error: dict) -> dict:
    """One validation error as {field, reason}; an unreadable body is the field "body"."""
    if error.get("type") == "json_invalid":
        where = (error.get("ctx") or {}).get("error", "")
        return {"field": "body", "reason": f"not valid JSON ({where})".replace(" ()", "")}
    field = ".".join(str(p) for p in error["loc"] if p != "body") or "body"
    limit = (error.get("ctx") or {}).get("max_length")
    if error.get("type") == "too_long" and isinstance(error.get("input"), str) and limit:
        # A text checked by a validator of ours is measured "after validation", and pydantic
        # then counts "items": say characters, as for any other text.
        return {
            "field": field,
            "reason": f"at most {limit} characters, got {len(error['input'])}",
        }
    return {"field": field, "reason": error["msg"]}


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] | None = None
) -> FastAPI:
    """The app; `clock` replaces the wall clock (tests walk deadlines through time)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The boundary bands are built for one width; follow the configured one.
        with app.state.session_factory() as session, session.begin():
            grids_repo.ensure_bands(session, settings.on_boundary_m)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="OneGrid API",
        version=__version__,
        description="一网统管: grids, cases and automatic assignment on PostGIS.",
    )
    # No pre-ping per request (a round trip each): after a database restart the first
    # request on a dead connection fails unacknowledged and the pool replaces it.
    engine = make_engine(
        resolve_database_url(settings, start=False),
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=False,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.state.clock = clock or (lambda: datetime.now(TIME_ZONE))
    app.state.calendar = WorkCalendar.load(settings.work_calendar_file, settings.work_hours)
    # Per app, not per module: every app (and every test) counts from zero.
    app.state.client_limits = ClientLimits.from_settings(settings)

    @app.exception_handler(OneGridError)
    async def domain_error(_: Request, exc: OneGridError) -> JSONResponse:
        status = http_status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse(exc.to_dict(), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(e) for e in exc.errors()]
        first = problems[0] if problems else {"field": None, "reason": "invalid request"}
        return JSONResponse(
            {
                "error": "InvalidInput",
                "message": f"{first['field']}: {first['reason']}",
                "field": first["field"],
                "problems": problems,
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        body: dict = {"error": "HTTPError", "message": str(exc.detail)}
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            body.update(
                field="body",
                message="the body could not be read: send UTF-8 JSON (or a multipart upload)",
            )
        return JSONResponse(
            body,
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(sa.exc.DataError)
    async def unusable_value(_: Request, exc: sa.exc.DataError) -> JSONResponse:
        # Values the database cannot hold or compare (a NUL character, a number out of range):
        # bad input that slipped past validation, so 422, with PostgreSQL's own first line.
        reason = str(exc.orig).splitlines()[0] if exc.orig else "unusable value"
        return JSONResponse(
            {"error": "InvalidInput", "message": f"a value cannot be used: {reason}"},
            status_code=422,
        )

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, _: ClientDisconnect) -> Response:
        # A phone losing its signal mid-upload, or a body cut off at the size or time limit
        # (api/limits.py, which has answered already): one line, not a traceback.
        log.info(
            "client left before its request body was read: %s %s", request.method, request.url.path
        )
        return Response(status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(
            {"error": "InternalError", "message": "unexpected server error"}, status_code=500
        )

    if settings.cors_origins:  # closed by default: only the origins configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        upload_max_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(NulInUrl)
    app.add_middleware(SecurityHeaders)  # outermost: the 413, 408 and 422 answers get them too
    app.include_router(grids_router)
    app.include_router(cases_router)
    app.include_router(units_router)
    app.include_router(auth_router)
    app.include_router(stats_router)
    app.include_router(reports_router)
    # The places registry (issue 5).
    app.include_router(places_router)
    # Red property (红色物业) and enterprise service (万人助万企).
    app.include_router(redproperty_router)
    app.include_router(enterprises_router)
    app.include_router(duties_router)  # responsibility lists, grid staff, unit grids

    @app.get("/api/config", tags=["map"])
    def map_config() -> dict:
        """What the map page needs: base tiles, initial view, the on-boundary distance."""
        with app.state.session_factory() as session:
            extent = grids_repo.coverage_extent(session)
        center = [(extent[1] + extent[3]) / 2, (extent[0] + extent[2]) / 2] if extent else None
        return {
            "tile_url": settings.tile_url or None,
            "tile_attribution": settings.tile_attribution,
            "tile_max_zoom": settings.tile_max_zoom,
            "center": center,
            "zoom": settings.map_zoom,
            "on_boundary_m": settings.on_boundary_m,
        }

    @app.get("/api/health", tags=["map"])
    def health() -> dict:
        with app.state.session_factory() as session:
            return {"status": "ok", "grids": grids_repo.counts_by_level(session)}

    if settings.frontend_dir.is_dir():
        app.mount("/", StaticFiles(directory=settings.frontend_dir, html=True), name="frontend")
    return app


def server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """How `onegrid serve` runs the app. Uvicorn's default trusts X-Forwarded-For from
    127.0.0.1, which would let anything on this machine choose the client address the rate
    limits and the audit log see; trusted proxies are the app's setting instead
    (ONEGRID_REPORT_TRUSTED_PROXIES)."""
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False
    )
