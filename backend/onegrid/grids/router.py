"""Grid endpoints: layers by level and bounding box, one grid."""

from __future__ import annotations

from fastapi import APIRouter

from onegrid.api.deps import BBoxDep, ScopeDep, SessionDep
from onegrid.grids import service
from onegrid.grids.schemas import GridFeature, GridFeatureCollection, GridLevel

router = APIRouter(prefix="/api/grids", tags=["grids"])


@router.get("", response_model=GridFeatureCollection)
def list_grids(
    session: SessionDep, scope: ScopeDep, bbox: BBoxDep, level: GridLevel | None = None
) -> dict:
    """Current grids as GeoJSON (MultiPolygon, WGS 84), optionally one level and a bbox,
    with the number of the signed-in person's cases in each. Territory staff see their
    own grid's subtree; everyone else the street's grids."""
    return service.grid_features(session, scope=scope, level=level, bbox=bbox)


@router.get("/{code}", response_model=GridFeature)
def get_grid(code: str, session: SessionDep, scope: ScopeDep) -> dict:
    """One current grid by its code."""
    return service.grid_feature(session, code, scope=scope)
