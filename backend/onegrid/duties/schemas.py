"""What clients send and get back for responsibility lists (事项清单), grid staff and the grids
a unit serves."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from onegrid.cases.schemas import Text

Level = Literal["grid", "community", "street", "department"]
Duty = Literal[
    "grid_leader", "full_time_worker", "part_time_worker", "sunk_staff", "police", "instructor"
]
Code = Annotated[Text, Field(min_length=1, max_length=100)]
ItemCode = Annotated[Text, Field(min_length=1, max_length=50)]
Name = Annotated[Text, Field(min_length=1, max_length=200)]
# A mobile or landline number as people write it: digits, spaces, hyphens, a leading +.
Phone = Annotated[Text, Field(min_length=5, max_length=30, pattern=r"^\+?[0-9][0-9 \-]*[0-9]$")]
TIME_LIMIT = "a time limit such as 30min, 4h (working hours), 2wd (working days) or 1cd"


class ResponsibilityItemCreate(BaseModel):
    """One item of the street's responsibility list (事项清单)."""

    model_config = ConfigDict(extra="forbid")

    code: ItemCode
    name: Name
    responsible_level: Level = Field(description="grid, community, street or department")
    on_the_spot: StrictBool = Field(
        False, description="a grid worker may settle it on the spot (随手办)"
    )
    time_limit: Text | None = Field(None, max_length=20, description=TIME_LIMIT)
    category_code: Text | None = Field(None, max_length=20, description="GET /api/categories")
    department_code: Code | None = Field(
        None, description="the department's unit code; required when the level is department"
    )


class ResponsibilityItemUpdate(BaseModel):
    """Only the fields sent change; `active: false` takes the item off the list."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    responsible_level: Level | None = None
    on_the_spot: StrictBool | None = None
    time_limit: Text | None = Field(None, max_length=20, description=TIME_LIMIT)
    category_code: Text | None = Field(None, max_length=20)
    department_code: Code | None = None
    active: StrictBool | None = None


class ResponsibilityItemRead(BaseModel):
    id: int
    code: str
    name: str
    responsible_level: str
    on_the_spot: bool
    time_limit: str | None
    category_code: str | None
    department_code: str | None
    active: bool
    grid_codes: list[str] = Field(description="the grids it is attached to (those you see)")
    unit_codes: list[str]
    applies_via: list[str] | None = Field(
        None, description="with ?grid=: the grids of its chain it is attached to"
    )


class AssignmentCreate(BaseModel):
    """Attach an item to a grid (by code: it outlives boundary versions) or to a unit."""

    model_config = ConfigDict(extra="forbid")

    grid_code: Code | None = None
    unit_code: Code | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AssignmentCreate:
        if (self.grid_code is None) == (self.unit_code is None):
            raise ValueError("give exactly one of grid_code and unit_code")
        return self


class GridStaffCreate(BaseModel):
    """Someone who works in a grid: its leader, workers, sunk department staff (下沉人员),
    the community police officer (社区民警) or instructor (网格指导员)."""

    model_config = ConfigDict(extra="forbid")

    grid_code: Code
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    duty: Duty
    unit_code: Code | None = Field(None, description="required for sunk_staff: their department")
    phone: Phone | None = None
    username: Annotated[Text, Field(min_length=1, max_length=64)] | None = Field(
        None, description="their account, if they have one"
    )


class GridStaffUpdate(BaseModel):
    """Only the fields sent change; null clears unit_code, phone or username; `active: false`
    records that they no longer work there."""

    model_config = ConfigDict(extra="forbid")

    grid_code: Code | None = None
    name: Annotated[Text, Field(min_length=1, max_length=100)] | None = None
    duty: Duty | None = None
    unit_code: Code | None = None
    phone: Phone | None = None
    username: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    active: StrictBool | None = None


class GridStaffRead(BaseModel):
    id: int
    grid_code: str
    grid_name: str | None
    name: str
    duty: str
    duty_name: str
    unit_code: str | None
    unit_name: str | None
    phone: str | None = Field(description="null when hidden from you, or not recorded")
    phone_hidden: bool
    username: str | None
    active: bool


class UnitGridsSet(BaseModel):
    """The whole list of grids the unit serves (replaces the stored one)."""

    model_config = ConfigDict(extra="forbid")

    grid_codes: list[Code] = Field(max_length=1000)


class UnitGridsRead(BaseModel):
    unit_code: str
    unit_name: str
    unit_kind: str
    grid_codes: list[str]
