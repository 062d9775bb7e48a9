"""A places file fills the registry's typed attributes (households, licence, flags, site
dates...) from its properties; a value of the wrong type refuses that feature by name."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from tests.cases.test_workflow_api import build_street

from onegrid.places import service as places_service

WEST_BLOCK = [[113.604, 34.766], [113.605, 34.766], [113.605, 34.767], [113.604, 34.767]]


def feature(props, geometry):
    return {"type": "Feature", "properties": props, "geometry": geometry}


def polygon(ring):
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def write(tmp_path, name, features):
    path = tmp_path / name
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def street(session, tmp_path):
    return build_street(session, tmp_path)


def stored(session, kind, code):
    row = session.execute(
        sa.text("SELECT * FROM places WHERE kind = :k AND code = :c"), {"k": kind, "c": code}
    ).one()
    return row._mapping


def test_typed_attributes_come_out_of_the_properties(session, street, tmp_path):
    buildings = write(
        tmp_path,
        "b.geojson",
        [
            feature(
                {
                    "code": "B1",
                    "name": "1号楼",
                    "households": "48",
                    "residents": 131.0,
                    "address": "丰产路1号",
                    "floors": 6,
                },
                polygon(WEST_BLOCK),
            )
        ],
    )
    report = places_service.import_places(session, buildings, kind="building")
    assert report.accepted == 1 and not report.rejected
    b1 = stored(session, "building", "B1")
    assert (b1["households"], b1["residents"], b1["address"]) == (48, 131, "丰产路1号")
    assert b1["properties"] == {"floors": 6}  # only what has no column of its own

    firms = write(
        tmp_path,
        "e.geojson",
        [
            feature(
                {
                    "code": "E1",
                    "name": "中原数据",
                    "key_tax_source": "是",
                    "above_scale": False,
                    "service_officer": "李明",
                    "licence_no": "91410100MA0000000X",
                    "trade": "软件",
                },
                {"type": "Point", "coordinates": [113.606, 34.768]},
            )
        ],
    )
    places_service.import_places(session, firms, kind="enterprise")
    e1 = stored(session, "enterprise", "E1")
    assert (e1["key_tax_source"], e1["above_scale"], e1["service_officer"]) == (True, False, "李明")
    assert (e1["licence_no"], e1["trade"]) == ("91410100MA0000000X", "软件")

    sites = write(
        tmp_path,
        "s.geojson",
        [
            feature(
                {
                    "code": "S1",
                    "name": "工地",
                    "start_date": "2026-03-01",
                    "end_date": "2027-06-30",
                },
                polygon(WEST_BLOCK),
            )
        ],
    )
    places_service.import_places(session, sites, kind="site")
    s1 = stored(session, "site", "S1")
    assert (s1["starts_on"], s1["ends_on"]) == (date(2026, 3, 1), date(2027, 6, 30))


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"households": "many"}, "households"),
        ({"households": -3}, "households"),
        ({"residents": 2.5}, "residents"),
    ],
)
def test_a_value_of_the_wrong_type_refuses_the_feature_by_name(
    session, street, tmp_path, props, field
):
    path = write(
        tmp_path,
        "bad.geojson",
        [
            feature({"code": "OK", "name": "好"}, polygon(WEST_BLOCK)),
            feature({"code": "BAD", "name": "坏", **props}, polygon(WEST_BLOCK)),
        ],
    )
    report = places_service.import_places(session, path, kind="building")
    assert [(r.index, r.field) for r in report.rejected] == [(1, field)]
    assert report.accepted == 1


def test_a_reimport_without_an_attribute_keeps_the_stored_one(session, street, tmp_path):
    first = write(
        tmp_path,
        "1.geojson",
        [feature({"code": "B1", "name": "1号楼", "households": 48}, polygon(WEST_BLOCK))],
    )
    places_service.import_places(session, first, kind="building")
    again = write(
        tmp_path, "2.geojson", [feature({"code": "B1", "name": "一号楼"}, polygon(WEST_BLOCK))]
    )
    places_service.import_places(session, again, kind="building")
    b1 = stored(session, "building", "B1")
    assert (b1["name"], b1["households"]) == ("一号楼", 48)


def test_a_place_far_from_every_grid_is_refused_as_the_api_refuses_it(session, street, tmp_path):
    shanghai = [[121.48, 31.23], [121.481, 31.23], [121.481, 31.231], [121.48, 31.231]]
    path = write(
        tmp_path,
        "far.geojson",
        [
            feature({"code": "NEAR", "name": "近"}, polygon(WEST_BLOCK)),
            feature({"code": "FAR", "name": "上海"}, polygon(shanghai)),
        ],
    )
    report = places_service.import_places(session, path, kind="building")
    assert [(r.index, r.field) for r in report.rejected] == [(1, "geometry")]
    assert "km from every grid" in report.rejected[0].reason
    stored = session.scalars(sa.text("SELECT code FROM places WHERE kind = 'building'")).all()
    assert stored == ["NEAR"]
