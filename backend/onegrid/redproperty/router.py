"""Red property endpoints (红色物业): claims of unmanaged courtyards, decisions, coverage, map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from onegrid.api.deps import BBoxDep, ClockDep, SessionDep, signed_in_as
from onegrid.auth.actor import Actor
from onegrid.auth.scope import place_scope
from onegrid.redproperty import service
from onegrid.redproperty.schemas import (
    ClaimCreate,
    ClaimDecision,
    ClaimEnd,
    ClaimRead,
    CourtyardFeatureCollection,
    Coverage,
)

router = APIRouter(prefix="/api/red-property", tags=["red property"])

Reader = Annotated[Actor, Depends(signed_in_as(service.READERS, "read red-property claims"))]
Claimant = Annotated[Actor, Depends(signed_in_as(service.CLAIMANTS, "claim courtyards"))]
Decider = Annotated[
    Actor, Depends(signed_in_as(service.DECIDERS, "decide or end red-property claims"))
]


@router.get("/claims", response_model=list[ClaimRead])
def list_claims(
    session: SessionDep,
    actor: Reader,
    status_: Annotated[
        str | None,
        Query(alias="status", max_length=20, description="pending, approved, rejected or ended"),
    ] = None,
    company: Annotated[str | None, Query(max_length=100, description="a company code")] = None,
    community: Annotated[
        str | None, Query(max_length=100, description="a second-level grid code")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict]:
    """Claims the signed-in person sees, newest first: a property company its own, territory
    staff those of their grid's courtyards, the street all."""
    return service.list_claims(
        session,
        scope=place_scope(actor),
        status=status_,
        company=company,
        community=community,
        limit=limit,
        offset=offset,
    )


@router.post("/claims", response_model=ClaimRead, status_code=status.HTTP_201_CREATED)
def claim_courtyard(body: ClaimCreate, session: SessionDep, actor: Claimant, now: ClockDep) -> dict:
    """A property company claims an unmanaged courtyard (pending until the street decides);
    the street or the courtyard's community may record it on the company's behalf. 409 for a
    managed courtyard or one with an open claim."""
    return service.claim_courtyard(session, body.model_dump(), actor=actor, now=now)


@router.get("/claims/{claim_id}", response_model=ClaimRead)
def get_claim(claim_id: int, session: SessionDep, actor: Reader) -> dict:
    return service.get_claim(session, claim_id, scope=place_scope(actor))


@router.post("/claims/{claim_id}/approve", response_model=ClaimRead)
def approve_claim(
    claim_id: int, body: ClaimDecision, session: SessionDep, actor: Decider, now: ClockDep
) -> dict:
    """The street approves: the courtyard becomes red property of the company, whose cases
    the dispatch rules send to it."""
    return service.approve_claim(session, claim_id, body.note, actor=actor, now=now)


@router.post("/claims/{claim_id}/reject", response_model=ClaimRead)
def reject_claim(
    claim_id: int, body: ClaimDecision, session: SessionDep, actor: Decider, now: ClockDep
) -> dict:
    """The street rejects a pending claim (note required)."""
    return service.reject_claim(session, claim_id, body.note, actor=actor, now=now)


@router.post("/claims/{claim_id}/end", response_model=ClaimRead)
def end_claim(
    claim_id: int, body: ClaimEnd, session: SessionDep, actor: Decider, now: ClockDep
) -> dict:
    """An approved claim ends: the courtyard is unmanaged again (the claim is kept)."""
    return service.end_claim(session, claim_id, body.ended_on, body.reason, actor=actor, now=now)


@router.get("/courtyards/{courtyard_id}/claims", response_model=list[ClaimRead])
def courtyard_history(courtyard_id: int, session: SessionDep, actor: Reader) -> list[dict]:
    """The courtyard's claims, oldest first."""
    return service.courtyard_history(session, courtyard_id, scope=place_scope(actor))


@router.get("/claimable", response_model=CourtyardFeatureCollection)
def claimable_courtyards(session: SessionDep, actor: Reader, bbox: BBoxDep) -> dict:
    """Unmanaged courtyards without an open claim (names, geometry): a property company sees
    all of the street's; territory staff those of their grid."""
    return service.claimable_courtyards(session, scope=place_scope(actor), bbox=bbox)


@router.get("/coverage", response_model=Coverage)
def coverage(session: SessionDep, actor: Reader) -> dict:
    """Courtyards needing red property (unmanaged + red_property), claimed, pending, by
    company (since when) and per community."""
    return service.coverage(session, scope=place_scope(actor))


@router.get("/map", response_model=CourtyardFeatureCollection)
def courtyard_map(session: SessionDep, actor: Reader, bbox: BBoxDep) -> dict:
    """Courtyards as GeoJSON coloured by status: red property, claim pending, unmanaged,
    property managed."""
    return service.courtyard_map(session, scope=place_scope(actor), bbox=bbox)
