"""Resident reports (居民上报): report without an account, then follow, add photos and rate the
result with the follow token given once.

The token is the only key: it is stored as its sha256, so the database never holds one that
works, and every lookup goes through the digest. An unknown token gets the same answer as
any other, whatever cases exist.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from onegrid.auth.actor import Actor
from onegrid.auth.scope import Scope
from onegrid.cases import repository as cases_repo
from onegrid.cases import service as cases_service
from onegrid.cases import workflow
from onegrid.cases.deadlines import WorkCalendar
from onegrid.errors import CaseNotFound, Conflict, Forbidden, TransitionNotAllowed
from onegrid.settings import Settings

# The source every report made here gets: the resident channel of cases/service.SOURCES.
RESIDENT_SOURCE = "resident_wechat"
# Whoever holds a follow token acts as the case's resident (the workflow's resident role).
TOKEN_HOLDER = Actor(name="resident", role="resident")
# A report takes this many of the resident's photos, so that the open channel cannot fill
# the disk; staff photos do not count.
MAX_ATTACHMENTS = 6
UNKNOWN_TOKEN = "no report with this follow token"
# What a resident reads for each move (the workflow's names, plus the report itself).
ACTION_NAMES = {"report": "上报", **{a: t.name for a, t in workflow.TRANSITIONS.items()}}


def digest_of(token: str) -> str:
    # surrogatepass: whatever a path carries is hashed (and not found), never a 500.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def follow_url(token: str) -> str:
    return f"/api/reports/{token}"


def report(
    session: Session,
    data: dict[str, Any],
    *,
    reporter: Actor | None,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> dict[str, Any]:
    """Store a resident's report (source resident, reported now) and give its follow token.

    A signed-in resident's report is linked to their account too. Staff report through
    POST /api/cases: a report of theirs here would count as a public one (漏报率 counts cases
    first reported by the public), so their token is refused.
    """
    if reporter is not None and reporter.role != "resident":
        raise Forbidden(
            f"this is the residents' channel; {reporter.role} reports with POST /api/cases",
            field="Authorization",
        )
    token = secrets.token_urlsafe(32)
    fields = {k: v for k, v in data.items() if k != "location_note"}
    case, _ = cases_service.create_case(
        session,
        {**fields, "source": RESIDENT_SOURCE},
        now=now,
        calendar=calendar,
        settings=settings,
        reporter=reporter,
        follow_token_digest=digest_of(token),
    )
    if data.get("location_note"):
        cases_repo.set_location_note(session, case["id"], data["location_note"])
    view = follow(session, token)
    return {
        "follow_token": token,
        "follow_url": follow_url(token),
        **{k: view[k] for k in ("reference", "status", "status_name", "reported_at", "grid")},
    }


def follow(session: Session, token: str) -> dict[str, Any]:
    """The report as its resident sees it: what they sent, its status and public progress."""
    return _public_view(session, _followed(session, token))


def reports_of(session: Session, resident: Actor, limit: int) -> list[dict[str, Any]]:
    """A signed-in resident's reports, newest first, as they see them."""
    if resident.role != "resident" or resident.user_id is None:
        raise Forbidden(
            f"this lists residents' own reports; {resident.role} reads cases at /api/cases"
        )
    return [
        _public_view(session, case)
        for case in cases_repo.cases_reported_by(session, resident.user_id, limit)
    ]


def _public_view(session: Session, case: dict[str, Any]) -> dict[str, Any]:
    steps = [
        {
            "action": s["action"],
            "action_name": ACTION_NAMES.get(s["action"], s["action"]),
            "status": s["to_status"],
            "status_name": workflow.STATUS_NAMES.get(s["to_status"], s["to_status"]),
            "at": s["at"],
            # The one note meant for the resident: what the community asks them to add.
            "reason": s["note"] if s["action"] == "return" else None,
        }
        for s in cases_repo.public_steps(session, case["id"])
    ]
    photos = cases_repo.count_attachments(session, case["id"], TOKEN_HOLDER.name)
    status = case["status"]
    return cases_service.in_beijing_time(
        {
            "reference": case["external_id"],
            "category": case["category"],
            "description": case["description"],
            "location_note": case["location_note"],
            "status": status,
            "status_name": workflow.STATUS_NAMES.get(status, status),
            "reported_at": case["reported_at"],
            "grid": {"community": case["community_name"], "grid": case["grid_name"]},
            "steps": [cases_service.in_beijing_time(s) for s in steps],
            "closed": status in ("closed", "evaluated"),
            "may_evaluate": status == "closed",
            "may_resubmit": status == "returned",
            "satisfaction": case["satisfaction"],
            "attachments": photos,
            "may_add_attachments": status not in workflow.FINISHED and photos < MAX_ATTACHMENTS,
        }
    )


def photo_slot(session: Session, token: str, *, lock: bool = False) -> tuple[dict[str, Any], int]:
    """The report a photo may still go on, and how many it has; refused when the token is
    unknown, the report finished or full. Asked before the photo is read, and again (with
    the report locked) when it is stored."""
    case = _followed(session, token, lock=lock)
    if case["status"] in workflow.FINISHED:
        raise TransitionNotAllowed(
            f"the report is {workflow.STATUS_NAMES[case['status']]}: photos go on open reports",
            field="file",
        )
    photos = cases_repo.count_attachments(session, case["id"], TOKEN_HOLDER.name)
    if photos >= MAX_ATTACHMENTS:
        raise Conflict(f"a report takes at most {MAX_ATTACHMENTS} photos", field="file")
    return case, photos


def add_photo(
    session: Session,
    token: str,
    *,
    content: bytes,
    filename: str | None,
    declared_type: str | None,
    settings: Settings,
) -> dict[str, Any]:
    """One more photo on an open report, checked like every upload (cases/attachments.py)."""
    case, photos = photo_slot(session, token, lock=True)
    stored = cases_service.add_attachment(
        session,
        case["id"],
        content=content,
        filename=filename,
        declared_type=declared_type,
        uploaded_by=TOKEN_HOLDER.name,
        settings=settings,
        scope=Scope(case_id=case["id"]),  # the token names this one case
    )
    return {
        "filename": stored["filename"],
        "content_type": stored["content_type"],
        "size_bytes": stored["size_bytes"],
        "attachments": photos + 1,
    }


def evaluate(
    session: Session,
    token: str,
    *,
    satisfaction: int,
    note: str | None,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> dict[str, Any]:
    """Rate a closed case once (评价), through the workflow like any other move."""
    case = _followed(session, token, lock=True)
    if case["status"] == "evaluated":
        raise TransitionNotAllowed("the report has been rated already", field="satisfaction")
    if case["status"] != "closed":
        raise TransitionNotAllowed(
            f"the report is {workflow.STATUS_NAMES[case['status']]}: it can be rated once"
            " it is closed (已结案)",
            field="satisfaction",
        )
    cases_service.transition_case(
        session,
        case["id"],
        "evaluate",
        # The row is locked, so its version is the current one.
        {"version": case["version"], "satisfaction": satisfaction, "note": note},
        actor=TOKEN_HOLDER,
        now=now,
        calendar=calendar,
        settings=settings,
        scope=Scope(case_id=case["id"]),
    )
    return follow(session, token)


def resubmit(
    session: Session,
    token: str,
    *,
    note: str,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> dict[str, Any]:
    """Send a returned report back with what the community asked for (重新上报), through the
    workflow like any other move."""
    case = _followed(session, token, lock=True)
    if case["status"] != "returned":
        raise TransitionNotAllowed(
            f"the report is {workflow.STATUS_NAMES[case['status']]}: only a report returned"
            " for more information (退回补充) is sent again",
            field="note",
        )
    cases_service.transition_case(
        session,
        case["id"],
        "resubmit",
        {"version": case["version"], "note": note},  # the row is locked: current version
        actor=TOKEN_HOLDER,
        now=now,
        calendar=calendar,
        settings=settings,
        scope=Scope(case_id=case["id"]),
    )
    return follow(session, token)


def _followed(session: Session, token: str, *, lock: bool = False) -> dict[str, Any]:
    case = cases_repo.followed_case(session, digest_of(token), lock=lock)
    if case is None:
        raise CaseNotFound(UNKNOWN_TOKEN, field="token")
    return case
