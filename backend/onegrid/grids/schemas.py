"""Grid schemas as the API shows them (GeoJSON features)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

GridLevel = Literal["street", "second", "third", "micro", "dedicated"]


class GridFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]


class GridFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[GridFeature]
