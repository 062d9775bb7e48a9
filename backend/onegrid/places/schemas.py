"""Place schemas: what a client sends to create or edit a place, and what it reads back."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from onegrid.cases.schemas import GridRef, NearestRef, ResponsibleRef, Text

PlaceKind = Literal["building", "courtyard", "merchant", "enterprise", "site", "resident_unit"]
MAX_PROPERTIES_CHARS = 20_000


def _small_object(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, ensure_ascii=False, default=str))
    if size > MAX_PROPERTIES_CHARS:
        raise ValueError(f"is {size:,} characters as JSON; at most {MAX_PROPERTIES_CHARS:,}")
    return value


Properties = Annotated[dict[str, Any], AfterValidator(_small_object)]
Count = Annotated[StrictInt, Field(ge=0, le=10_000_000)]


class PlaceFields(BaseModel):
    """Attributes shared by create and edit; which belong to which kind is checked by the
    service (a 422 names the field and the kinds it belongs to)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not lost

    code: Text | None = Field(None, max_length=100, description="unique within the kind")
    name: Text | None = Field(None, max_length=200)
    address: Text | None = Field(None, max_length=500)
    households: Count | None = Field(None, description="户数 (buildings, courtyards)")
    residents: Count | None = Field(None, description="人数 (buildings, courtyards)")
    licence_no: Text | None = Field(
        None, max_length=50, description="统一社会信用代码 or 营业执照号 (merchants, enterprises)"
    )
    trade: Text | None = Field(None, max_length=100, description="行业")
    contact_unit_code: Text | None = Field(
        None,
        max_length=100,
        description="联系单位: a unit of GET /api/units, not a property company",
    )
    key_tax_source: StrictBool | None = Field(None, description="重点税源 (enterprises)")
    above_scale: StrictBool | None = Field(None, description="规上企业 (enterprises)")
    service_officer: Text | None = Field(None, max_length=100, description="包联干部 (enterprises)")
    starts_on: date | None = Field(None, description="project sites")
    ends_on: date | None = Field(None, description="project sites; not before starts_on")
    management_status: Text | None = Field(
        None,
        max_length=40,
        description="courtyards: property_managed or unmanaged (red_property comes from an"
        " approved claim)",
    )
    manager_unit_code: Text | None = Field(
        None, max_length=100, description="refused: set by the red-property claim workflow"
    )
    properties: Properties | None = Field(None, description="any other attributes (JSON object)")
    crs: Text = Field(
        "wgs84", max_length=64, description="of `geometry`: wgs84, cgcs2000, gcj02, bd09, EPSG:NNNN"
    )


class PlaceCreate(PlaceFields):
    """A new place: its kind, its geometry as GeoJSON (a Point for merchants, a Polygon or
    MultiPolygon for buildings, courtyards and sites, either for enterprises and resident
    units), in `crs` (converted to WGS 84 here, at the edge)."""

    kind: PlaceKind
    geometry: dict[str, Any]


class PlaceUpdate(PlaceFields):
    """Only the fields sent change; `null` clears an attribute. A new geometry is assigned
    to its grids at once."""

    geometry: dict[str, Any] | None = None


class PlaceRead(BaseModel):
    id: int
    kind: str
    code: str | None
    name: str | None
    address: str | None
    households: int | None
    residents: int | None
    licence_no: str | None
    trade: str | None
    contact_unit_code: str | None
    contact_unit_name: str | None
    key_tax_source: bool
    above_scale: bool
    service_officer: str | None
    starts_on: date | None
    ends_on: date | None
    management_status: str | None
    manager_unit_code: str | None
    manager_unit_name: str | None
    attributes: dict[str, Any] = Field(description="the place's other properties")
    lon: float | None = Field(description="a point on the place's surface: where it is assigned")
    lat: float | None
    grids: dict[str, GridRef | None] = Field(description="its grid of each level, by code and name")
    responsible: ResponsibleRef | None
    assignment_rule: str | None
    on_boundary: bool
    outside_coverage: bool
    nearest: NearestRef | None
    created_at: datetime | None
    updated_at: datetime | None
    updated_by: str | None


class PlaceFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any]
    properties: PlaceRead


class PlaceFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
