"""Exported maps (folium): the grids and a heat map of cases, as a standalone HTML file.

GeoJSON and PostGIS give (lon, lat); folium and Leaflet take [lat, lon]. folium's HeatMap
checks nothing, so the swap happens here, once, with a range check (fault B06).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from onegrid.errors import InvalidCoordinates

LEVEL_STYLE = {
    "street": {"color": "#333333", "weight": 3, "fillOpacity": 0.0},
    "second": {"color": "#1f5fbf", "weight": 2, "fillOpacity": 0.0},
    "third": {"color": "#2a9d8f", "weight": 1, "fillOpacity": 0.05},
    "micro": {"color": "#e9a23b", "weight": 1, "fillOpacity": 0.1},
    "dedicated": {"color": "#c0392b", "weight": 2, "fillOpacity": 0.1, "dashArray": "6 4"},
}


def heat_points(points: Iterable[tuple[float | None, float | None]]) -> list[list[float]]:
    """[lat, lon] pairs for folium from (lon, lat) pairs; cases without a location are skipped."""
    out = []
    for lon, lat in points:
        if lon is None or lat is None:
            continue
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidCoordinates(
                f"({lon}, {lat}) is not a (lon, lat) pair in range", field="lon"
            )
        out.append([lat, lon])
    return out


def case_map(grid_collections: dict[str, dict[str, Any]], points: list[list[float]]):
    """A folium map with one toggleable layer per grid level and a heat map of cases."""
    import folium
    from folium.plugins import HeatMap

    fmap = folium.Map(tiles="OpenStreetMap", control_scale=True)
    bounds: list[list[float]] = []
    for level, collection in grid_collections.items():
        if not collection["features"]:
            continue
        style = LEVEL_STYLE.get(level, {})
        folium.GeoJson(
            collection,
            name=level,
            style_function=lambda _f, style=style: style,
            tooltip=folium.GeoJsonTooltip(fields=["code", "name"]),
        ).add_to(fmap)
    for collection in grid_collections.values():
        for feature in collection["features"]:
            for polygon in feature["geometry"]["coordinates"]:
                bounds += [[lat, lon] for lon, lat in polygon[0]]
    if points:
        HeatMap(points, name="cases", radius=12).add_to(fmap)
    if bounds:
        lats, lons = [b[0] for b in bounds], [b[1] for b in bounds]
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]])
    folium.LayerControl().add_to(fmap)
    return fmap
