"""Red property schemas: a claim as sent, decided and ended; the claim and coverage views."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from onegrid.cases.schemas import Text


class ClaimCreate(BaseModel):
    """A property company claims an unmanaged courtyard (物业认领无主管小区)."""

    model_config = ConfigDict(extra="forbid")

    courtyard_id: StrictInt = Field(ge=1, description="a place of kind courtyard")
    company_code: Text = Field(
        min_length=1, max_length=100, description="a unit of kind property_company"
    )
    claimed_on: date = Field(description="the day the company takes the courtyard on")
    note: Text | None = Field(None, max_length=2000)


class ClaimDecision(BaseModel):
    """The street's answer to a pending claim; a rejection says why."""

    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(None, max_length=2000)


class ClaimEnd(BaseModel):
    """An approved claim ends: the company leaves the courtyard (退出)."""

    model_config = ConfigDict(extra="forbid")

    ended_on: date
    reason: Text = Field(min_length=1, max_length=2000)


ClaimStatus = Literal["pending", "approved", "rejected", "ended"]


class ClaimRead(BaseModel):
    id: int
    courtyard_id: int
    courtyard_code: str | None
    courtyard_name: str | None
    management_status: str | None
    community_code: str | None
    community_name: str | None
    company_code: str
    company_name: str
    status: ClaimStatus
    claimed_on: date
    note: str | None
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    ended_on: date | None
    ended_by: str | None
    end_reason: str | None


class CompanyCoverage(BaseModel):
    company_code: str
    company_name: str | None
    courtyards: int
    since: date | None = Field(description="the earliest claimed_on of its current claims")


class CommunityCoverage(BaseModel):
    code: str | None
    name: str | None
    needing: int = Field(description="unmanaged + red_property courtyards")
    claimed: int
    pending: int
    unclaimed: int
    claimed_share: float | None


class ClaimedCourtyard(BaseModel):
    courtyard_id: int
    courtyard_name: str | None
    community_code: str | None
    company_code: str
    company_name: str | None
    since: date | None = Field(
        description="claimed_on of its approved claim; none if recorded"
        " as red property without a claim"
    )
    claim_id: int | None


class Coverage(BaseModel):
    """红色物业覆盖: how many courtyards need a red-property company, and who took which."""

    needing: int
    claimed: int
    pending: int
    unclaimed: int
    claimed_share: float | None
    companies: list[CompanyCoverage]
    communities: list[CommunityCoverage]
    claimed_courtyards: list[ClaimedCourtyard]


class CourtyardFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
