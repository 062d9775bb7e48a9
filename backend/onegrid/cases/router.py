"""Case endpoints: layers by grid, bbox and status; one case; report a case; point lookup."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import (
    APIRouter,
    Depends,
    Header,
    Path,
    Query,
    Request,
    Response,
    status,
)
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from onegrid.api.deps import (
    ActorDep,
    BBoxDep,
    CalendarDep,
    ClockDep,
    CredentialsDep,
    ScopeDep,
    SessionDep,
    SettingsDep,
    in_transaction,
    require_role,
    signed_in,
    signed_in_as,
)
from onegrid.api.uploads import UPLOAD_BODY, read_upload
from onegrid.auth.actor import Actor
from onegrid.auth.scope import REPORTERS, STAFF, UPLOADERS, WHOLE_STREET, scope_of
from onegrid.cases import service, workflow
from onegrid.cases.deadlines import parse_moment
from onegrid.cases.schemas import (
    AttachmentRead,
    CaseCreate,
    CaseEventRead,
    CaseFeatureCollection,
    CaseRead,
    CaseTransition,
    PointLookup,
    PossibleDuplicate,
)

router = APIRouter(prefix="/api", tags=["cases"])


@router.get("/cases", response_model=CaseFeatureCollection)
def list_cases(
    session: SessionDep,
    scope: ScopeDep,
    bbox: BBoxDep,
    grid: Annotated[str | None, Query(description="code of a grid at any level")] = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    outside_coverage: bool | None = None,
    # Bounded so that one response cannot grow the server by hundreds of MB; page with offset.
    limit: Annotated[int, Query(ge=1, le=20_000)] = 5000,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> dict:
    """The cases the signed-in person sees, as GeoJSON points (geometry null for cases
    without a location)."""
    rows = service.list_cases(
        session,
        scope=scope,
        grid=grid,
        bbox=bbox,
        status=status_,
        outside_coverage=outside_coverage,
        limit=limit,
        offset=offset,
    )
    return {"type": "FeatureCollection", "features": [service.case_feature(r) for r in rows]}


@router.get("/cases/export", response_class=FileResponse)
async def export_cases(
    request: Request,
    now: ClockDep,
    actor: Annotated[Actor, Depends(signed_in_as(STAFF, "export cases"))],
    fmt: Annotated[Literal["csv", "geojson"], Query(alias="format")] = "csv",
) -> FileResponse:
    """Every case the signed-in person sees, with its grid per level, as CSV (UTF-8 with a
    BOM for Excel) or GeoJSON; written to the audit log."""

    def write(session: Session) -> str:
        # A file, not a stream: the export and its audit entry commit together, before the
        # answer starts.
        with tempfile.NamedTemporaryFile(
            "w",
            suffix=f".{fmt}",
            delete=False,
            newline="",
            encoding="utf-8-sig" if fmt == "csv" else "utf-8",
        ) as out:
            try:
                service.export_cases(session, out, fmt, by=actor, now=now)
            except BaseException:
                os.unlink(out.name)
                raise
        return out.name

    path = await in_transaction(request, write)
    return FileResponse(
        path,
        media_type="text/csv" if fmt == "csv" else "application/geo+json",
        filename=f"cases-{now:%Y%m%d}.{fmt}",
        background=BackgroundTask(os.unlink, path),
    )


@router.get("/cases/{case_id}", response_model=CaseRead)
def get_case(
    case_id: int, session: SessionDep, scope: ScopeDep, calendar: CalendarDep, now: ClockDep
) -> dict:
    """One case with its deadline light (green, yellow, red) and the moves open to it."""
    return service.view_case(session, case_id, calendar=calendar, now=now, scope=scope)


@router.post("/cases", response_model=CaseRead, status_code=status.HTTP_201_CREATED)
async def create_case(
    body: CaseCreate,
    request: Request,
    response: Response,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: ClockDep,
    credentials: CredentialsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=8,
            max_length=200,
            description="the same key on a retry returns the case created the first time",
        ),
    ] = None,
) -> dict:
    """Report a case as staff (residents: POST /api/reports); it is assigned to one grid
    per level, and its filing clock starts."""

    def report(session: Session) -> tuple[dict, bool]:
        # Who reports is checked in the report's own transaction: the phone waits for this.
        reporter = signed_in(session, request, credentials)
        require_role(reporter, REPORTERS, "report through /api/cases")
        if body.external_id:
            # Another system's case number is for the street office's integrations to set;
            # from anyone else, "already exists" would reveal cases outside their scope.
            require_role(reporter, WHOLE_STREET, "set another system's number", "external_id")
        return service.create_case(
            session,
            body.model_dump(),
            now=now,
            calendar=calendar,
            settings=settings,
            reporter=reporter,
            idempotency_key=idempotency_key,
        )

    case, replayed = await in_transaction(request, report)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return case


@router.post("/cases/{case_id}/actions/{action}", response_model=CaseRead)
def act_on_case(
    case_id: int,
    action: Annotated[str, Path(description="see GET /api/workflow")],
    body: CaseTransition,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: ClockDep,
    actor: Annotated[
        Actor, Depends(signed_in_as(STAFF, "move cases here (residents: /api/reports)"))
    ],
) -> dict:
    """Move a case one step (立案, 派遣, 反馈, 核查, 结案 ...); 409 names the allowed moves."""
    return service.transition_case(
        session,
        case_id,
        action,
        body.model_dump(),
        actor=actor,
        now=now,
        calendar=calendar,
        settings=settings,
    )


@router.get("/cases/{case_id}/events", response_model=list[CaseEventRead])
def case_events(case_id: int, session: SessionDep, scope: ScopeDep) -> list[dict]:
    """The case's history: every transition, oldest first."""
    return service.case_history(session, case_id, scope=scope)


@router.post(
    "/cases/{case_id}/attachments",
    response_model=AttachmentRead,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_BODY,
)
async def upload_attachment(
    case_id: int,
    request: Request,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(signed_in_as(UPLOADERS, "attach files to cases"))],
) -> dict:
    """Attach a photo or file (the multipart field 'file') to an open case; name its id in a
    later action to put it on the event."""
    # A case one does not see, or a finished one, is refused before the file is read.
    scope = scope_of(actor)
    await in_transaction(
        request, lambda session: service.open_case_for_files(session, case_id, scope=scope)
    )
    upload = await read_upload(request, settings.max_upload_bytes)
    return await in_transaction(
        request,
        lambda session: service.add_attachment(
            session,
            case_id,
            content=upload.content,
            filename=upload.filename,
            declared_type=upload.declared_type,
            uploaded_by=actor.name,
            settings=settings,
            scope=scope,
        ),
    )


@router.get("/cases/{case_id}/attachments", response_model=list[AttachmentRead])
def case_attachments(case_id: int, session: SessionDep, scope: ScopeDep) -> list[dict]:
    return service.list_attachments(session, case_id, scope=scope)


@router.get("/attachments/{attachment_id}", response_class=FileResponse)
def download_attachment(
    attachment_id: int, session: SessionDep, scope: ScopeDep, settings: SettingsDep
) -> FileResponse:
    """The stored file, with the content type found when it was checked."""
    row, path = service.attachment_file(session, attachment_id, settings, scope=scope)
    return FileResponse(
        path,
        media_type=row["content_type"],
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(row['filename'])}",
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{row["sha256"]}"',
        },
    )


@router.get("/cases/{case_id}/duplicates", response_model=list[PossibleDuplicate])
def case_duplicates(
    case_id: int, session: SessionDep, scope: ScopeDep, settings: SettingsDep
) -> list[dict]:
    """Open cases of the same category within the duplicate radius (metres) and window."""
    return service.possible_duplicates(session, case_id, settings, scope=scope)


@router.get("/deadlines", response_model=list[CaseRead])
def deadline_watch(
    session: SessionDep,
    actor: Annotated[Actor, Depends(signed_in_as(STAFF, "read deadline lists"))],
    calendar: CalendarDep,
    now: ClockDep,
    grid: Annotated[str | None, Query(description="code of a grid at any level")] = None,
    unit: Annotated[str | None, Query(max_length=100)] = None,
    overdue_only: bool = False,
    as_of: Annotated[
        str | None,
        Query(
            max_length=40,
            description="2026-01-01 or 2026-01-01T08:00+08:00 (Beijing time"
            " without an offset); default: now",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict]:
    """Cases overdue (red) or with at least 80 % of their step's time used (yellow)."""
    return service.deadline_watch(
        session,
        calendar=calendar,
        at=parse_moment(as_of, "as_of") if as_of else now,
        grid=grid,
        unit=unit,
        overdue_only=overdue_only,
        limit=limit,
        scope=scope_of(actor),
    )


@router.get("/workflow")
def workflow_table() -> dict:
    """The state machine: states, and for each action the moves, roles and required fields."""
    return {
        "statuses": workflow.STATUS_NAMES,
        "actions": [
            {
                "action": t.action,
                "name": t.name,
                "moves": dict(t.moves),
                "roles": sorted(t.roles),
                "requires": list(t.requires),
                "own_unit_only": t.own_unit_only,
            }
            for t in workflow.TRANSITIONS.values()
        ],
    }


@router.get("/lookup", response_model=PointLookup)
def lookup(
    session: SessionDep,
    settings: SettingsDep,
    _signed_in: ActorDep,
    lon: Annotated[float, Query(allow_inf_nan=False)],
    lat: Annotated[float, Query(allow_inf_nan=False)],
    crs: Annotated[str, Query(max_length=64)] = "wgs84",
) -> dict:
    """Which grid of each level covers a point (the rule a new case there would get)."""
    return service.lookup(session, lon, lat, crs)
