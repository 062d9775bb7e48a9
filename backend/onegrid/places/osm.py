"""An OpenStreetMap extract as places: which features are places of which kind, and why not.

Reads the GeoJSON layers of a vector-tile extract (tilezen's `kind` attribute, as in
../shared/data/shanghai_bund_osm) without a database; the service stores and assigns them.

- buildings.geojson: `kind=building` is a building: its name (name, else name:zh, name:en),
  its address from addr_street + addr_housenumber (中山东一路 + 10-12 → 中山东一路10-12号).
  `building_part` features are the 3-D parts of a building whose outline is a feature of its
  own, and `address` / `entrance` features are nodes: not places.
- pois.geojson: shops and businesses open to the street are merchants (MERCHANT_KINDS),
  companies, banks, hotels and malls are enterprises (ENTERPRISE_KINDS), public bodies
  located in the street (schools, hospitals, police, government offices...) are resident
  units, 驻街单位 (RESIDENT_UNIT_KINDS); each gets its 行业 (trade). Everything else (bus
  stops, traffic signals, toilets, attractions, ATMs, gates ...) is not a place.
- landuse.geojson: a named `kind=residential` area is a courtyard (小区); unnamed ones are
  not (a courtyard is known by its name). Its management status is property_managed when
  the feature names an operator (a property company), else unmanaged.

Every place keeps its OSM attributes in properties (`osm_tags`, without the tile renderer's
own fields) and is coded `osm:<id>`, so importing a newer extract updates it. The extract
was cut at tile edges and merged again: a polygon that is not valid is repaired with
make_valid (a warning says so), an empty geometry is rejected, and a point that came back
as several points far apart is rejected rather than guessed.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, shape

from onegrid.errors import InvalidGeometry, InvalidInput, Rejection
from onegrid.geo.validate import check_lonlat_arrays, point_from_geojson, polygon_from_geojson

LAYERS = ("buildings", "pois", "landuse")

MERCHANT_KINDS = {
    "restaurant": "餐饮",
    "fast_food": "餐饮",
    "cafe": "餐饮",
    "bar": "餐饮",
    "pub": "餐饮",
    "ice_cream": "餐饮",
    "bakery": "餐饮",
    "convenience": "零售",
    "supermarket": "零售",
    "shop": "零售",
    "clothes": "零售",
    "jewelry": "零售",
    "gift": "零售",
    "books": "零售",
    "computer": "零售",
    "electronics": "零售",
    "mobile_phone": "零售",
    "bicycle": "零售",
    "pharmacy": "医药零售",
    "fuel": "加油站",
    "cinema": "文化娱乐",
    "fitness": "体育健身",
}
ENTERPRISE_KINDS = {
    "company": "商务服务",
    "office": "商务服务",
    "bank": "金融",
    "insurance": "金融",
    "hotel": "住宿",
    "hostel": "住宿",
    "mall": "商业综合体",
}
RESIDENT_UNIT_KINDS = {
    "school": "教育",
    "kindergarten": "教育",
    "university": "教育",
    "hospital": "医疗卫生",
    "clinic": "医疗卫生",
    "police": "公安",
    "fire_station": "消防",
    "government": "党政机关",
    "post_office": "邮政",
    "embassy": "外事",
    "library": "文化",
}
POI_PLACE_KINDS = (
    {k: ("merchant", t) for k, t in MERCHANT_KINDS.items()}
    | {k: ("enterprise", t) for k, t in ENTERPRISE_KINDS.items()}
    | {k: ("resident_unit", t) for k, t in RESIDENT_UNIT_KINDS.items()}
)
# Fields the tile renderer adds: not OSM tags, not kept.
RENDERER_FIELDS = frozenset(
    {
        "id",
        "_tile",
        "sort_rank",
        "min_zoom",
        "collision_rank",
        "scale_rank",
        "label_placement",
        "source",
        "tier",
        "kind_tile_rank",
        "area",
        "volume",
    }
)
SAME_POINT_M = 1.0  # pieces of one point closer than this are the same point


@dataclass
class OsmPlaces:
    """What an extract holds: place rows per kind, rejections, and what is not a place."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    not_places: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    read: int = 0

    def add(self, kind: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(kind, []).append(row)


def read_extract(directory: Path) -> OsmPlaces:
    """Read buildings, points of interest and land use of an extract (each file optional,
    at least one needed) into place rows, WGS 84 (the extract's own system)."""
    found = {layer: directory / f"{layer}.geojson" for layer in LAYERS}
    if not any(path.exists() for path in found.values()):
        raise InvalidInput(
            f"{directory} holds none of {', '.join(f'{layer}.geojson' for layer in LAYERS)}",
            field="directory",
        )
    result = OsmPlaces()
    for layer, path in found.items():
        if path.exists():
            features = json.loads(path.read_text(encoding="utf-8")).get("features") or []
            result.read += len(features)
            for index, feature in enumerate(features):
                _read_feature(result, layer, index, feature)
    return result


def _read_feature(result: OsmPlaces, layer: str, index: int, feature: dict[str, Any]) -> None:
    props = feature.get("properties") or {}
    osm_kind = str(props.get("kind") or "")
    place = classify(layer, props)
    if place is None:
        unnamed = " without a name" if layer == "landuse" and osm_kind == "residential" else ""
        result.not_places[f"{layer}: {osm_kind or 'no kind'}{unnamed}"] += 1
        return
    kind, trade = place
    code = f"osm:{props.get('id')}"
    try:
        geom, notes = osm_geometry(
            feature.get("geometry"), "point" if layer == "pois" else "polygon"
        )
    except InvalidGeometry as error:
        result.rejected.append(Rejection(index, f"{layer}: {error.message}", "geometry", code))
        return
    result.warnings.extend(f"{layer} feature {index} ({code}): {note}" for note in notes)
    result.add(
        kind,
        {
            "index": index,
            "code": code,
            "name": osm_name(props),
            "address": osm_address(props),
            "trade": trade,
            "management_status": courtyard_status(props) if kind == "courtyard" else None,
            "properties": {
                "source": "OpenStreetMap (© OpenStreetMap contributors, ODbL 1.0)",
                "osm_id": props.get("id"),
                "osm_layer": layer,
                "osm_tags": osm_tags(props),
            },
            "geom_wkb": shapely.to_wkb(geom, output_dimension=2),
        },
    )


def classify(layer: str, props: dict[str, Any]) -> tuple[str, str | None] | None:
    """The place kind (and trade) of an OSM feature of `layer`, or None: not a place."""
    osm_kind = props.get("kind")
    if layer == "buildings":
        return ("building", None) if osm_kind == "building" else None
    if layer == "pois":
        return POI_PLACE_KINDS.get(str(osm_kind))
    if layer == "landuse":
        return ("courtyard", None) if osm_kind == "residential" and osm_name(props) else None
    return None


def osm_name(props: dict[str, Any]) -> str | None:
    for key in ("name", "name:zh", "name:en"):
        value = props.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def osm_address(props: dict[str, Any]) -> str | None:
    """中山东一路 + 10-12 → 中山东一路10-12号; a number without its street is no address."""
    street = str(props.get("addr_street") or "").strip()
    number = str(props.get("addr_housenumber") or "").strip()
    if not street:
        return None
    if number and not number.endswith("号"):
        number += "号"
    return street + number


def courtyard_status(props: dict[str, Any]) -> str:
    """A property company named as the operator manages it; otherwise nobody does (无主管)."""
    return "property_managed" if str(props.get("operator") or "").strip() else "unmanaged"


def osm_tags(props: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in props.items()
        if k not in RENDERER_FIELDS
        and v is not None
        and not (isinstance(v, float) and math.isnan(v))
    }


def osm_geometry(geometry: Any, want: str) -> tuple[Point | MultiPolygon, list[str]]:
    """The feature's geometry as a place stores it, with a note for each repair; raises
    InvalidGeometry with the reason when it cannot be used."""
    notes: list[str] = []
    if isinstance(geometry, dict) and geometry.get("type") == "GeometryCollection":
        parts = [g for g in geometry.get("geometries") or [] if g]
        wanted = ("Point",) if want == "point" else ("Polygon", "MultiPolygon")
        usable = [g for g in parts if g.get("type") in wanted]
        if not usable:
            raise InvalidGeometry(
                "empty geometry (a GeometryCollection with nothing in it: the shape was lost"
                " when the tiles were cut)"
                if not parts
                else f"a GeometryCollection without a {' or '.join(wanted)}"
            )
        if want == "polygon":
            merged = shapely.union_all([shape(g) for g in usable])
            geometry = json.loads(shapely.to_geojson(merged))
        else:
            geometry = {"type": "MultiPoint", "coordinates": [g["coordinates"] for g in usable]}
        notes.append(f"took the {len(usable)} {want} part(s) of a GeometryCollection")
    if want == "point":
        if isinstance(geometry, dict) and geometry.get("type") == "MultiPoint":
            geometry, note = _one_point(geometry)
            notes.append(note)
        point, point_notes = point_from_geojson(geometry)
        _check_range(point)
        return point, notes + point_notes
    multi, repairs = polygon_from_geojson(geometry, repair=True)
    _check_range(multi)
    return multi, notes + repairs


def _one_point(geometry: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A point that came back from the tiles as several: one, if they agree."""
    coords = [c for c in geometry.get("coordinates") or [] if isinstance(c, list | tuple)]
    if not coords:
        raise InvalidGeometry("empty geometry (a MultiPoint without points)")
    (x0, y0), spread = coords[0][:2], 0.0
    for x, y, *_ in coords[1:]:
        dx = (x - x0) * 111_320 * math.cos(math.radians(y0))
        dy = (y - y0) * 110_540
        spread = max(spread, math.hypot(dx, dy))
    if spread > SAME_POINT_M:
        raise InvalidGeometry(
            f"{len(coords)} points up to {spread:,.0f} m apart (the feature was cut at a tile"
            " edge and its pieces do not agree where it is): not guessed; map it as one point"
        )
    return {"type": "Point", "coordinates": list(coords[0][:2])}, (
        f"{len(coords)} copies of one point (cut at a tile edge) merged into one"
    )


def _check_range(geom: Point | MultiPolygon) -> None:
    coords = shapely.get_coordinates(geom)
    bad = [r for r in check_lonlat_arrays(coords[:, 0], coords[:, 1]) if r is not None]
    if bad:
        raise InvalidGeometry(f"coordinates out of range: {bad[0]}")
