"""Grid and place files (GeoJSON, GeoPackage, Shapefile, CSV) to validated rows."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from shapely import wkt
from shapely.geometry import MultiPolygon, Point, box

from onegrid.errors import InvalidInput
from onegrid.ingest.readers import read_places, read_polygons

SQUARE = [[116.39, 39.90], [116.40, 39.90], [116.40, 39.91], [116.39, 39.91], [116.39, 39.90]]
EAST = [[x + 0.01, y] for x, y in SQUARE]


def feature(geometry, **properties):
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def polygon(ring):
    return {"type": "Polygon", "coordinates": [ring]}


def write_geojson(path: Path, features, **extra) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features, **extra}), encoding="utf-8"
    )
    return path


def two_grids(crs: int = 4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["A1", "A2"], "name": ["东华门网格", "王府井网格"], "households": [320, 410]},
        geometry=[box(116.39, 39.90, 116.40, 39.91), box(116.40, 39.90, 116.41, 39.91)],
        crs=4326,
    ).to_crs(crs)


def test_geojson_grids_every_bad_feature_rejected_with_its_reason(tmp_path):
    path = write_geojson(
        tmp_path / "grids.geojson",
        [
            feature(polygon(SQUARE), code="A1", name="东华门", parent="S1", area=1.5),
            feature(polygon(EAST), code="A2", name="王府井", parent="S1"),
            feature(polygon(SQUARE[:-1]), code="B07", name="unclosed"),
            feature(
                {
                    "type": "Polygon",
                    "coordinates": [[[116.4, 39.9], [116.41, 39.9], [116.4, 39.9]]],
                },
                code="B08",
            ),
            feature(
                polygon(
                    [
                        [116.39, 39.90],
                        [116.40, 39.91],
                        [116.40, 39.90],
                        [116.39, 39.91],
                        [116.39, 39.90],
                    ]
                ),
                code="B09",
            ),
            feature({"type": "Point", "coordinates": [116.4, 39.9]}, code="PT"),
            feature(polygon(SQUARE), code="A1", name="duplicate"),
            feature(polygon(SQUARE), code="  ", name="blank code"),
            feature(None, code="NULL"),
            feature(polygon([[x * 1e5, y * 1e5] for x, y in SQUARE]), code="B12"),
        ],
    )
    result = read_polygons(path, parent_field="parent")
    assert result.total == 10 and result.crs == "wgs84" and result.source == str(path)
    assert result.rows["code"].tolist() == ["A1", "A2"]
    assert result.rows["parent_code"].tolist() == ["S1", "S1"]
    assert result.rows["name"].tolist() == ["东华门", "王府井"]
    assert result.rows["properties"][0] == {"area": 1.5}
    reasons = {r.index: (r.code, r.field, r.reason) for r in result.rejected}
    assert reasons == {
        2: (
            "B07",
            "geometry",
            "ring 0 of polygon 0 is not closed: first (116.39 39.9) != last (116.39 39.91)",
        ),
        3: (
            "B08",
            "geometry",
            "ring 0 of polygon 0 has too few points: 3 positions, "
            "2 distinct; a ring needs at least 3 distinct points and must "
            "end where it starts",
        ),
        4: ("B09", "geometry", "Self-intersection at 116.395 39.905"),
        5: ("PT", "geometry", "expected a Polygon or MultiPolygon, got a Point"),
        6: ("A1", "code", "duplicate code 'A1': feature 0 already uses it"),
        7: (None, "code", "code is missing"),
        8: ("NULL", "geometry", "geometry is missing (null)"),
        9: (
            "B12",
            "geometry",
            "coordinates out of range: longitude 11639000 is outside "
            "[-180, 180]: these look like projected metres; say which CRS "
            "(e.g. EPSG:3857)",
        ),
    }
    geom = shapely.from_wkb(result.rows["geom_wkb"][0])
    assert isinstance(geom, MultiPolygon) and geom.equals(box(116.39, 39.90, 116.40, 39.91))


def test_repair_closes_rings_and_keeps_both_bowtie_lobes_with_warnings(tmp_path):
    path = write_geojson(
        tmp_path / "grids.geojson",
        [
            feature(polygon(SQUARE[:-1]), code="B07"),
            feature(
                polygon(
                    [
                        [116.39, 39.90],
                        [116.40, 39.91],
                        [116.40, 39.90],
                        [116.39, 39.91],
                        [116.39, 39.90],
                    ]
                ),
                code="B09",
            ),
        ],
    )
    result = read_polygons(path, name_field=None, repair=True)
    assert result.rejected == []
    bowtie = shapely.from_wkb(result.rows["geom_wkb"][1])
    assert len(bowtie.geoms) == 2 and bowtie.area == pytest.approx(2 * 0.01 * 0.005 / 2)
    assert [w.index for w in result.warnings] == [0, 1]
    assert "closed ring 0" in result.warnings[0].text
    assert "make_valid" in result.warnings[1].text


def test_b11_polygon_and_multipolygon_features_both_stored_as_multipolygon(tmp_path):
    two_blocks = wkt.loads(
        "MULTIPOLYGON(((116.39 39.90,116.395 39.90,116.395 39.905,116.39 39.905,116.39 39.90)),"
        "((116.40 39.90,116.405 39.90,116.405 39.905,116.40 39.905,116.40 39.90)))"
    )
    path = write_geojson(
        tmp_path / "dedicated.geojson",
        [
            feature(json.loads(shapely.to_geojson(two_blocks)), code="Z-school", name="school"),
            feature(polygon(SQUARE), code="G3", name="third"),
        ],
    )
    result = read_polygons(path)
    geoms = [shapely.from_wkb(b) for b in result.rows["geom_wkb"]]
    assert [g.geom_type for g in geoms] == ["MultiPolygon", "MultiPolygon"]
    assert [len(g.geoms) for g in geoms] == [2, 1]
    assert geoms[0].covers(Point(116.402, 39.902))


def test_named_field_absent_from_the_file_stops_the_import_naming_available_fields(tmp_path):
    path = write_geojson(tmp_path / "grids.geojson", [feature(polygon(SQUARE), 编码="A1")])
    with pytest.raises(InvalidInput) as error:
        read_polygons(path, name_field=None)
    assert error.value.field == "code_field"
    message = "code_field 'code' not found in grids.geojson; available fields: 编码"
    assert error.value.message == message
    assert read_polygons(path, code_field="编码", name_field=None).rows["code"][0] == "A1"


def test_geojson_crs_member_is_used_when_no_crs_is_given(tmp_path):
    mercator = [[x * 1e5, y * 1e5] for x, y in SQUARE]
    path = write_geojson(
        tmp_path / "grids.geojson",
        [feature(polygon(mercator), code="M")],
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
    )
    result = read_polygons(path, name_field=None)
    assert result.crs == "EPSG:3857" and result.rejected == []
    minx, miny, _, _ = shapely.from_wkb(result.rows["geom_wkb"][0]).bounds
    assert minx == pytest.approx(104.56, abs=0.01) and -90 < miny < 90


def test_gcj02_grid_file_is_converted_to_wgs84(tmp_path):
    gcj_ring = [[116.381, 39.905], [116.392, 39.905], [116.392, 39.92], [116.381, 39.905]]
    path = write_geojson(tmp_path / "amap.geojson", [feature(polygon(gcj_ring), code="W")])
    result = read_polygons(path, crs="gcj02", name_field=None)
    assert result.crs == "gcj02"
    x, y = shapely.from_wkb(result.rows["geom_wkb"][0]).geoms[0].exterior.coords[0]
    assert x == pytest.approx(116.374775, abs=1e-5) and y == pytest.approx(39.903612, abs=1e-5)


def test_geopackage_needs_a_layer_name_when_it_holds_several_and_keeps_its_crs(tmp_path):
    path = tmp_path / "grids.gpkg"
    pyogrio.write_dataframe(two_grids(3857), path, layer="third")
    pyogrio.write_dataframe(two_grids().iloc[:1], path, layer="micro", append=False)
    with pytest.raises(InvalidInput, match="holds 2 layers .third, micro.: choose one"):
        read_polygons(path)
    first = read_polygons(path, layer="third")
    assert first.crs == "EPSG:3857"
    assert first.rows["code"].tolist() == ["A1", "A2"]
    assert first.rows["properties"][1] == {"households": 410}
    back = shapely.from_wkb(first.rows["geom_wkb"][0])
    assert back.symmetric_difference(box(116.39, 39.90, 116.40, 39.91)).area < 1e-12
    micro = read_polygons(path, layer="micro")
    assert micro.crs == "wgs84" and micro.rows["code"].tolist() == ["A1"]
    with pytest.raises(InvalidInput, match="layer 'nope' not found in grids.gpkg; layers: third"):
        read_polygons(path, layer="nope")


def test_zipped_shapefile_in_a_sub_folder(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    pyogrio.write_dataframe(two_grids(), folder / "grids.shp")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, f"数据/网格/{part.name}")
    result = read_polygons(archive)
    assert result.rows["code"].tolist() == ["A1", "A2"]
    assert result.rows["name"].tolist() == ["东华门网格", "王府井网格"]
    assert result.crs == "wgs84"


def test_gbk_shapefile_without_cpg_reads_chinese_names(tmp_path):
    path = tmp_path / "grids.shp"
    pyogrio.write_dataframe(two_grids(), path, encoding="GBK")
    path.with_suffix(".cpg").unlink()  # as ArcGIS-era Chinese data often arrive
    result = read_polygons(path)
    assert result.rows["name"].tolist() == ["东华门网格", "王府井网格"]


def test_gbk_zipped_shapefile_without_cpg_reads_chinese_names(tmp_path):
    path = tmp_path / "grids.shp"
    pyogrio.write_dataframe(two_grids(), path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    archive = tmp_path / "gbk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("grids.*"):
            zf.write(part, f"sub/{part.name}")
    assert read_polygons(archive).rows["name"].tolist() == ["东华门网格", "王府井网格"]


def test_csv_with_wkt_column_for_polygons(tmp_path):
    path = tmp_path / "grids.csv"
    path.write_text(
        "code,name,wkt\n"
        'A1,one,"POLYGON((116.39 39.90,116.40 39.90,116.40 39.91,116.39 39.91,116.39 39.90))"\n'
        'B08,two,"POLYGON((116.4 39.9, 116.41 39.9, 116.4 39.9))"\n'
        "C,three,not wkt\n"
        "D,four,\n",
        encoding="utf-8",
    )
    result = read_polygons(path)
    assert result.rows["code"].tolist() == ["A1"]
    assert result.rows["properties"][0] == {}
    by_code = {r.code: r for r in result.rejected}
    assert by_code["B08"].row == 3 and "too few points" in by_code["B08"].reason
    assert by_code["C"].reason.startswith("cannot read the WKT")
    assert by_code["D"].reason == "geometry is missing (null)"


def test_point_places_from_geojson_reject_polygons_and_allow_missing_codes(tmp_path):
    path = write_geojson(
        tmp_path / "merchants.geojson",
        [
            feature({"type": "Point", "coordinates": [116.40, 39.905, 44.0]}, name="面馆"),
            feature(polygon(SQUARE), name="a courtyard by mistake"),
            feature({"type": "Point", "coordinates": [39.905, 116.40]}, name="swapped"),
        ],
    )
    result = read_places(path, geometry="point")
    assert result.rows["code"].tolist() == [None]
    assert shapely.from_wkb(result.rows["geom_wkb"][0]).equals(Point(116.40, 39.905))
    assert result.warnings[0].text == "Z value dropped: places are stored in 2-D"
    reasons = {r.index: r.reason for r in result.rejected}
    assert reasons[1].startswith("expected a Point, got a Polygon")
    assert "look swapped" in reasons[2]


def test_point_places_from_csv_and_named_code_field_must_exist(tmp_path):
    path = tmp_path / "merchants.csv"
    path.write_text(
        "shop_id,name,lng,lat,kind\nM1,面馆,116.40,39.905,food\n"
        "M2,茶馆,,,drink\nM1,dup,116.41,39.905,food\nM3,bad,abc,39.9,x\n",
        encoding="utf-8",
    )
    result = read_places(path, geometry="point", code_field="shop_id")
    assert result.rows["code"].tolist() == ["M1"]
    assert result.rows["properties"][0] == {"kind": "food"}
    reasons = {r.row: r.reason for r in result.rejected}
    assert reasons == {
        3: "the place has no location (longitude and latitude are empty)",
        4: "duplicate code 'M1': feature 0 already uses it",
        5: "longitude 'abc' is not a number",
    }
    with pytest.raises(InvalidInput, match="code_field 'code' not found"):
        read_places(path, geometry="point", code_field="code")


def test_polygon_places_from_geopackage(tmp_path):
    path = tmp_path / "courtyards.gpkg"
    pyogrio.write_dataframe(two_grids(), path)
    result = read_places(path, geometry="polygon", code_field="code")
    assert result.rows["code"].tolist() == ["A1", "A2"]


def test_unsupported_file_type_is_invalid_input(tmp_path):
    path = tmp_path / "grids.xlsx"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput, match="use GeoJSON, GeoPackage"):
        read_polygons(path)
