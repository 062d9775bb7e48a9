"""Resident report schemas: what a resident sends, and the little they get back.

The answers are their own models, not CaseRead: a field is public only when it is named
here, so nothing internal (units, dispatch rules, staff names, notes, other cases) can slip
into a resident's answer when the case grows a column.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from onegrid.cases.schemas import Number, Text


class ReportCreate(BaseModel):
    """A resident's report (居民上报). Coordinates as in CaseCreate: `crs` defaults to wgs84,
    what `wx.getLocation` returns unless asked for gcj02. The source, the time and the
    urgency are the server's to set."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lon: Number = Field(allow_inf_nan=False, description="longitude (x) in `crs`")
    lat: Number = Field(allow_inf_nan=False, description="latitude (y) in `crs`")
    crs: Text = Field(
        "wgs84", max_length=64, description="wgs84, cgcs2000, gcj02, bd09 or EPSG:NNNN"
    )
    category_code: Text | None = Field(None, max_length=20, description="GET /api/categories")
    category: Text | None = Field(None, max_length=200, description="a type's exact name")
    description: Text = Field(min_length=1, max_length=2000, description="what is wrong")
    location_note: Text | None = Field(
        None, max_length=200, description="where exactly, e.g. 3号楼东侧"
    )


class ReportEvaluation(BaseModel):
    """The resident's rating of a closed case (评价)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    satisfaction: StrictInt = Field(ge=1, le=5, description="1 very unsatisfied … 5 very satisfied")
    note: Text | None = Field(None, max_length=500)


class ReportResubmission(BaseModel):
    """What the resident adds to a report the community returned (退回补充)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Text = Field(min_length=1, max_length=2000, description="what was asked for")


class GridNames(BaseModel):
    community: str | None = Field(description="the community (second-level grid)")
    grid: str | None = Field(description="the grid responsible for the case")


class ReportStep(BaseModel):
    """One step of the case's progress: what happened and when, never who; why only where
    it asks the resident for something (the reason a report was returned)."""

    action: str
    action_name: str
    status: str
    status_name: str
    at: datetime
    reason: str | None = Field(None, description="for a return (退回补充): what to add")


class ReportRead(BaseModel):
    """A report as its resident follows it."""

    reference: str = Field(description="the case number to quote, e.g. on the 12345 hotline")
    category: str | None
    description: str | None
    location_note: str | None
    status: str
    status_name: str
    reported_at: datetime
    grid: GridNames
    steps: list[ReportStep]
    closed: bool = Field(description="closed (已结案) or already evaluated")
    may_evaluate: bool = Field(description="closed and not yet rated")
    may_resubmit: bool = Field(description="returned (退回补充): add what was asked for")
    satisfaction: int | None
    attachments: int = Field(description="photos on the report")
    may_add_attachments: bool


class ReportCreated(BaseModel):
    """The answer to a new report: the follow token is shown this once and never again."""

    follow_token: str
    follow_url: str = Field(description="GET it to follow the report")
    reference: str
    status: str
    status_name: str
    reported_at: datetime
    grid: GridNames


class ReportAttachmentRead(BaseModel):
    filename: str
    content_type: str
    size_bytes: int
    attachments: int = Field(description="photos on the report now")
