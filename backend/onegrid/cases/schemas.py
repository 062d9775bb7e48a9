"""Case schemas: what a client sends, and what it gets back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
)


def _storable(text: str) -> str:
    # PostgreSQL text holds UTF-8 without NUL; say which field instead of failing later.
    if "\x00" in text:
        raise ValueError("contains a NUL character (\\u0000)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate such as \ud800
        raise ValueError(f"is not valid Unicode text at character {exc.start}") from exc
    return text


Text = Annotated[str, AfterValidator(_storable)]
Number = Annotated[float, Strict()]  # a JSON number: not true/false, not "5"


class CaseCreate(BaseModel):
    """A new report. Coordinates are in `crs` (default wgs84, what `wx.getLocation` returns
    unless asked for gcj02); GCJ-02 and BD-09 are converted to WGS 84 here, at the edge."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not lost

    lon: Number = Field(allow_inf_nan=False, description="longitude (x) in `crs`")
    lat: Number = Field(allow_inf_nan=False, description="latitude (y) in `crs`")
    crs: Text = Field(
        "wgs84", max_length=64, description="wgs84, cgcs2000, gcj02, bd09 or EPSG:NNNN"
    )
    category: Text | None = Field(None, max_length=200)
    category_code: Text | None = Field(None, max_length=20)
    description: Text | None = Field(None, max_length=5000)
    source: Text | None = Field(
        None,
        max_length=50,
        description="grid_patrol (default), resident_wechat, property_company, hotline_12345,"
        " camera_sensor or enterprise_service",
    )
    reported_at: AwareDatetime | None = None
    external_id: Text | None = Field(None, max_length=100)
    urgent: StrictBool | None = Field(None, description="default: the category's own setting")


class Deadline(BaseModel):
    light: Literal["green", "yellow", "red"]
    time_used: float = Field(description="share of the step's limit used (1.0 = due now)")
    remaining_s: float = Field(description="step time left, in the step's basis; < 0 overdue")
    clock_stopped: bool


class PossibleDuplicate(BaseModel):
    id: int
    external_id: str
    category: str | None
    status: str
    reported_at: datetime | None
    distance_m: float


class CaseRead(BaseModel):
    id: int
    external_id: str
    category: str | None
    category_code: str | None = None
    description: str | None
    source: str | None
    status: str
    reported_at: datetime | None
    created_at: datetime | None = None
    lon: float | None
    lat: float | None
    raw_x: float | None = None
    raw_y: float | None = None
    raw_crs: str | None = None
    location_note: str | None = None
    street_code: str | None
    second_code: str | None
    third_code: str | None
    micro_code: str | None
    dedicated_code: str | None
    responsible_code: str | None
    responsible_level: str | None
    responsible_name: str | None = None
    assignment_rule: str | None
    on_boundary: bool
    outside_coverage: bool
    nearest_code: str | None
    nearest_m: float | None
    # Workflow
    version: int = 1
    status_name: str | None = None
    allowed_actions: list[str] = []
    urgent: bool = False
    reporter: str | None = None
    unit_code: str | None = None
    unit_name: str | None = None
    dispatch_rule: str | None = None
    step: str | None = None
    step_started_at: datetime | None = None
    due_at: datetime | None = None
    deadline: Deadline | None = None
    extension_requested: str | None = None
    filed_at: datetime | None = None
    dispatched_at: datetime | None = None
    reported_back_at: datetime | None = None
    closed_at: datetime | None = None
    late_steps: int = 0
    rework_count: int = 0
    extension_count: int = 0
    escalated: bool = False
    satisfaction: int | None = None
    merged_into: int | None = None
    possible_duplicates: list[PossibleDuplicate] | None = None


class CaseTransition(BaseModel):
    """One workflow move. `version` is the case version the actor saw (optimistic locking);
    the other fields are what the action needs (GET /api/workflow lists them)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not lost

    version: StrictInt = Field(ge=1)
    note: Text | None = Field(None, max_length=5000)
    reason: Text | None = Field(None, max_length=2000)
    verdict: Literal["passed", "failed"] | None = None
    satisfaction: StrictInt | None = Field(None, ge=1, le=5)
    report_valid: StrictBool | None = None
    extension: Text | None = Field(None, max_length=20, description="e.g. 2wd, 4h, 30min")
    unit_code: Text | None = Field(None, max_length=100, description="dispatch to this unit")
    into: StrictInt | None = Field(None, ge=1, description="merge into this case")
    attachments: list[StrictInt] = Field(default_factory=list, max_length=20)


class CaseEventRead(BaseModel):
    id: int
    seq: int
    action: str
    from_status: str | None
    to_status: str
    actor: str
    role: str
    unit_code: str | None
    at: datetime
    note: str | None
    data: dict[str, Any]
    late: bool
    attachments: list[int]


class CaseFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]


class GridRef(BaseModel):
    code: str
    name: str


class ResponsibleRef(GridRef):
    level: str


class NearestRef(GridRef):
    distance_m: float


class PointLookup(BaseModel):
    lon: float
    lat: float
    grids: dict[str, GridRef | None]
    responsible: ResponsibleRef | None
    on_boundary: bool
    outside_coverage: bool
    nearest: NearestRef | None
    rule: str


class AttachmentRead(BaseModel):
    id: int
    case_id: int
    event_id: int | None
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str | None
    created_at: datetime
