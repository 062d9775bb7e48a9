"""Units and the category taxonomy, for dispatch screens and report forms."""

from __future__ import annotations

from fastapi import APIRouter

from onegrid.api.deps import SessionDep
from onegrid.units import service

router = APIRouter(prefix="/api", tags=["units"])


@router.get("/units")
def list_units(session: SessionDep) -> list[dict]:
    """Departments, street offices, communities, property companies and dedicated units."""
    return service.list_units(session)


@router.get("/categories")
def list_categories(session: SessionDep) -> list[dict]:
    """The case types (大类/小类, 5-digit codes) with their department and time limits."""
    return service.list_categories(session)
