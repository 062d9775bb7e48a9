"""Resident report endpoints: report without an account, then follow the case by its token;
a signed-in resident lists their own reports.

The endpoints without an account are rate-limited per client address (api/ratelimit.py):
a flood of reports and a search for tokens are both slow.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from onegrid.api.deps import (
    ActorDep,
    CalendarDep,
    ClockDep,
    OptionalActorDep,
    SessionDep,
    SettingsDep,
    in_transaction,
)
from onegrid.api.uploads import UPLOAD_BODY, read_upload
from onegrid.reports import service
from onegrid.reports.schemas import (
    ReportAttachmentRead,
    ReportCreate,
    ReportCreated,
    ReportEvaluation,
    ReportRead,
    ReportResubmission,
)

router = APIRouter(prefix="/api/reports", tags=["resident reports"])


# No I/O: as async functions they run on the event loop, without a hop to a worker thread.
async def limit_new_reports(request: Request) -> None:
    limits = request.app.state.client_limits
    limits.check(request, limits.new_reports, "reports")


async def limit_token_uses(request: Request) -> None:
    limits = request.app.state.client_limits
    limits.check(request, limits.token_uses, "requests with a follow token")


@router.post(
    "",
    response_model=ReportCreated,
    status_code=status.HTTP_201_CREATED,
)
async def create_report(
    body: ReportCreate,
    request: Request,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: ClockDep,
    reporter: OptionalActorDep,
) -> dict:
    """Report a problem without an account (居民上报). The answer carries the follow token,
    shown this once: keep it to follow the case, add photos and rate the result. A signed-in
    resident's report is linked to their account as well; staff report with POST /api/cases."""
    # Counted once the body is well-formed: a form with a field missing does not use up a
    # report; one refused for its content (outside the street) does, as it costs a lookup.
    await limit_new_reports(request)
    return await in_transaction(
        request,
        lambda session: service.report(
            session,
            body.model_dump(),
            reporter=reporter,
            now=now,
            calendar=calendar,
            settings=settings,
        ),
    )


@router.get("", response_model=list[ReportRead])
def my_reports(
    session: SessionDep,
    resident: ActorDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict]:
    """A signed-in resident's own reports, newest first, as the follow token shows each."""
    return service.reports_of(session, resident, limit)


@router.get("/{token}", response_model=ReportRead, dependencies=[Depends(limit_token_uses)])
def follow_report(token: str, session: SessionDep) -> dict:
    """The report made with this token: its status and the steps it went through."""
    return service.follow(session, token)


@router.post(
    "/{token}/attachments",
    response_model=ReportAttachmentRead,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(limit_token_uses)],
    openapi_extra=UPLOAD_BODY,
)
async def add_report_photo(token: str, request: Request, settings: SettingsDep) -> dict:
    """One more photo on an open report (at most 6), sent as the multipart field 'file'."""
    # An unknown token, a finished or full report is refused before the photo is read.
    await in_transaction(request, lambda session: service.photo_slot(session, token))
    upload = await read_upload(request, settings.max_upload_bytes)
    return await in_transaction(
        request,
        lambda session: service.add_photo(
            session,
            token,
            content=upload.content,
            filename=upload.filename,
            declared_type=upload.declared_type,
            settings=settings,
        ),
    )


@router.post(
    "/{token}/evaluation", response_model=ReportRead, dependencies=[Depends(limit_token_uses)]
)
def evaluate_report(
    token: str,
    body: ReportEvaluation,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: ClockDep,
) -> dict:
    """Rate the result (评价, 1-5) once the case is closed; once only."""
    return service.evaluate(
        session,
        token,
        satisfaction=body.satisfaction,
        note=body.note,
        now=now,
        calendar=calendar,
        settings=settings,
    )


@router.post(
    "/{token}/resubmit", response_model=ReportRead, dependencies=[Depends(limit_token_uses)]
)
def resubmit_report(
    token: str,
    body: ReportResubmission,
    session: SessionDep,
    settings: SettingsDep,
    calendar: CalendarDep,
    now: ClockDep,
) -> dict:
    """Send a report the community returned (退回补充) back, with what it asked for (the
    reason is on the return step of GET /api/reports/{token})."""
    return service.resubmit(
        session, token, note=body.note, now=now, calendar=calendar, settings=settings
    )
