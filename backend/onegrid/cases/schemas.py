"""Case schemas: what a client sends, and what it gets back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field


class CaseCreate(BaseModel):
    """A new report. Coordinates are in `crs` (default wgs84, what `wx.getLocation` returns
    unless asked for gcj02); GCJ-02 and BD-09 are converted to WGS 84 here, at the edge."""

    lon: float = Field(allow_inf_nan=False, description="longitude (x) in `crs`")
    lat: float = Field(allow_inf_nan=False, description="latitude (y) in `crs`")
    crs: str = Field(
        "wgs84", max_length=64, description="wgs84, cgcs2000, gcj02, bd09 or EPSG:NNNN"
    )
    category: str | None = Field(None, max_length=200)
    category_code: str | None = Field(None, max_length=20)
    description: str | None = Field(None, max_length=5000)
    source: str | None = Field(None, max_length=50)
    reported_at: AwareDatetime | None = None
    external_id: str | None = Field(None, max_length=100)


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
