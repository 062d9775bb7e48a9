"""Responsibility lists (事项清单), grid staff and the grids each unit serves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from onegrid.api.deps import SessionDep, signed_in_as
from onegrid.auth.actor import Actor
from onegrid.auth.scope import STAFF
from onegrid.duties import service
from onegrid.duties.schemas import (
    AssignmentCreate,
    Duty,
    GridStaffCreate,
    GridStaffRead,
    GridStaffUpdate,
    Level,
    ResponsibilityItemCreate,
    ResponsibilityItemRead,
    ResponsibilityItemUpdate,
    UnitGridsRead,
    UnitGridsSet,
)

router = APIRouter(prefix="/api", tags=["duties"])

Reader = Annotated[Actor, Depends(signed_in_as(STAFF, "read who does what in the grids"))]
ItemEditor = Annotated[
    Actor, Depends(signed_in_as(service.ITEM_EDITORS, "change the responsibility list"))
]
StaffEditor = Annotated[
    Actor, Depends(signed_in_as(service.STAFF_EDITORS, "change the staff of grids"))
]
UnitGridEditor = Annotated[
    Actor, Depends(signed_in_as(service.UNIT_GRID_EDITORS, "set the grids a unit serves"))
]
ItemCode = Annotated[str, Path(min_length=1, max_length=50)]
GridCode = Annotated[str | None, Query(max_length=100, description="a grid's code")]
UnitCode = Annotated[str | None, Query(max_length=100, description="a unit's code")]


@router.get("/responsibility-items", response_model=list[ResponsibilityItemRead])
def list_items(
    session: SessionDep,
    actor: Reader,
    level: Level | None = None,
    grid: Annotated[
        str | None,
        Query(max_length=100, description="the items that apply in this grid (or above it)"),
    ] = None,
    unit: Annotated[
        str | None,
        Query(max_length=100, description="attached to this unit or naming it as department"),
    ] = None,
    include_inactive: bool = False,
) -> list[dict]:
    """The street's responsibility list (事项清单): who handles what, whether a grid worker
    may settle it on the spot (随手办), in what time."""
    return service.list_items(
        session,
        actor=actor,
        level=level,
        grid=grid,
        unit=unit,
        include_inactive=include_inactive,
    )


@router.post(
    "/responsibility-items",
    response_model=ResponsibilityItemRead,
    status_code=status.HTTP_201_CREATED,
)
def create_item(body: ResponsibilityItemCreate, session: SessionDep, actor: ItemEditor) -> dict:
    """Add an item to the list (street administrator); 409 when its code is taken."""
    return service.create_item(session, body.model_dump(), actor=actor)


@router.patch("/responsibility-items/{code}", response_model=ResponsibilityItemRead)
def change_item(
    code: ItemCode, body: ResponsibilityItemUpdate, session: SessionDep, actor: ItemEditor
) -> dict:
    """Change the fields sent; `active: false` takes the item off the list."""
    return service.change_item(session, code, body.model_dump(exclude_unset=True), actor=actor)


@router.post(
    "/responsibility-items/{code}/assignments",
    response_model=ResponsibilityItemRead,
    status_code=status.HTTP_201_CREATED,
)
def attach_item(
    code: ItemCode, body: AssignmentCreate, session: SessionDep, actor: ItemEditor
) -> dict:
    """Attach the item to a grid (and so to every grid under it) or to a unit."""
    return service.attach_item(
        session, code, grid_code=body.grid_code, unit_code=body.unit_code, actor=actor
    )


@router.delete("/responsibility-items/{code}/assignments", status_code=status.HTTP_204_NO_CONTENT)
def detach_item(
    code: ItemCode,
    session: SessionDep,
    actor: ItemEditor,
    grid_code: GridCode = None,
    unit_code: UnitCode = None,
) -> Response:
    """Detach the item from the grid or unit named (one of the two)."""
    service.detach_item(session, code, grid_code=grid_code, unit_code=unit_code, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/grid-staff", response_model=list[GridStaffRead])
def list_staff(
    session: SessionDep,
    actor: Reader,
    grid: Annotated[str | None, Query(max_length=100, description="the staff of this grid")] = None,
    duty: Duty | None = None,
    unit: UnitCode = None,
    include_inactive: bool = False,
) -> list[dict]:
    """The people who work in the grids you see; phones only for the street office,
    community staff and grid leaders."""
    return service.list_staff(
        session, actor=actor, grid=grid, duty=duty, unit=unit, include_inactive=include_inactive
    )


@router.post("/grid-staff", response_model=GridStaffRead, status_code=status.HTTP_201_CREATED)
def add_staff(body: GridStaffCreate, session: SessionDep, actor: StaffEditor) -> dict:
    """Record someone who works in a grid (street administrator; community staff in their own
    community)."""
    return service.add_staff(session, body.model_dump(), actor=actor)


@router.patch("/grid-staff/{staff_id}", response_model=GridStaffRead)
def change_staff(
    staff_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: GridStaffUpdate,
    session: SessionDep,
    actor: StaffEditor,
) -> dict:
    """Change the fields sent; `active: false` when they no longer work there."""
    return service.change_staff(session, staff_id, body.model_dump(exclude_unset=True), actor=actor)


@router.get("/unit-grids", response_model=list[UnitGridsRead])
def list_unit_grids(
    session: SessionDep,
    actor: Reader,
    unit: UnitCode = None,
    kind: Annotated[str | None, Query(max_length=40, description="e.g. department")] = None,
) -> list[dict]:
    """The district departments sunk into the street (and other units) with the grids each
    serves, as far as you see grids."""
    return service.list_unit_grids(session, actor=actor, unit=unit, kind=kind)


@router.put("/units/{code}/grids", response_model=UnitGridsRead)
def set_unit_grids(
    code: Annotated[str, Path(min_length=1, max_length=100)],
    body: UnitGridsSet,
    session: SessionDep,
    actor: UnitGridEditor,
) -> dict:
    """Set the whole list of grids a department serves (street administrator)."""
    return service.set_unit_grids(session, code, body.grid_codes, actor=actor)
