"""The synthetic demo street: clean grid coverage, plausible places and cases, determinism."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from onegrid.cases.taxonomy import read_categories
from onegrid.demo.generate import generate_demo_street, main, reference_now

LAYERS = (
    "street",
    "second",
    "third",
    "micro",
    "dedicated",
    "buildings",
    "courtyards",
    "merchants",
    "enterprises",
    "sites",
    "resident_units",
)
AREA_TOLERANCE = 1e-10  # deg²
METRE_DEG = 1 / 91_000  # about one metre of longitude at Zhengzhou's latitude


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_demo_street(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def layers(out: dict[str, Path]) -> dict[str, list[dict[str, Any]]]:
    return {name: json.loads(out[name].read_text(encoding="utf-8"))["features"] for name in LAYERS}


@pytest.fixture(scope="module")
def cases(out: dict[str, Path]) -> list[dict[str, str]]:
    with out["cases"].open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def geoms(features: list[dict[str, Any]]) -> list[BaseGeometry]:
    return [shape(f["geometry"]) for f in features]


def props(features: list[dict[str, Any]], key: str) -> list[Any]:
    return [f["properties"][key] for f in features]


def by_code(features: list[dict[str, Any]]) -> dict[str, BaseGeometry]:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in features}


def street_polygon(layers: dict[str, list[dict[str, Any]]]) -> BaseGeometry:
    return geoms(layers["street"])[0]


def test_writes_every_layer_cases_and_a_manifest_listing_them(out: dict[str, Path]) -> None:
    assert set(out) == {*LAYERS, "cases", "manifest"}
    assert all(path.is_file() for path in out.values())
    manifest = json.loads(out["manifest"].read_text(encoding="utf-8"))
    assert manifest["files"] == {k: p.name for k, p in out.items() if k != "manifest"}
    assert manifest["counts"]["cases"] == 6000
    assert manifest["crs"] == "EPSG:4326"


def test_layer_counts_are_in_the_realistic_ranges(layers: dict[str, list[dict[str, Any]]]) -> None:
    ranges = {
        "street": (1, 1),
        "second": (4, 5),
        "third": (25, 35),
        "micro": (60, 120),
        "dedicated": (4, 6),
        "buildings": (250, 350),
        "courtyards": (20, 30),
        "merchants": (200, 300),
        "enterprises": (30, 50),
        "sites": (3, 6),
        "resident_units": (8, 16),
    }
    for name, (lo, hi) in ranges.items():
        assert lo <= len(layers[name]) <= hi, name


def test_every_grid_polygon_is_valid_and_in_the_jinshui_extent(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    for name in ("street", "second", "third", "micro", "dedicated"):
        for geom in geoms(layers[name]):
            assert geom.geom_type == "Polygon" and geom.is_valid, name
            minx, miny, maxx, maxy = geom.bounds
            assert 113.655 <= minx and maxx <= 113.700 and 34.765 <= miny and maxy <= 34.795


@pytest.mark.parametrize(("parent", "child"), [("street", "second"), ("second", "third")])
def test_children_tile_their_parent_exactly_with_a_valid_coverage(
    layers: dict[str, list[dict[str, Any]]], parent: str, child: str
) -> None:
    children = layers[child]
    for code, parent_geom in by_code(layers[parent]).items():
        kids = [
            g
            for f, g in zip(children, geoms(children), strict=True)
            if f["properties"]["parent_code"] == code
        ]
        assert kids, code
        assert shapely.coverage_is_valid(kids), code
        assert shapely.union_all(kids).symmetric_difference(parent_geom).area < AREA_TOLERANCE
    assert {f["properties"]["parent_code"] for f in children} == set(by_code(layers[parent]))


def test_neighbouring_third_grids_share_identical_boundary_vertices(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    thirds = geoms(layers["third"])
    vertex_sets = [set(map(tuple, shapely.get_coordinates(g).tolist())) for g in thirds]
    shared_edges = 0
    for i, a in enumerate(thirds):
        for j in range(i + 1, len(thirds)):
            common = a.boundary.intersection(thirds[j].boundary)
            if common.is_empty or common.length == 0:
                continue
            shared_edges += 1
            # Every vertex of the shared line is a vertex of both polygons, bit for bit.
            line_vertices = set(map(tuple, shapely.get_coordinates(common).tolist()))
            assert line_vertices <= vertex_sets[i] and line_vertices <= vertex_sets[j]
    assert shared_edges >= 45


def test_grids_are_not_all_rectangles(layers: dict[str, list[dict[str, Any]]]) -> None:
    vertex_counts = [len(shapely.get_coordinates(g)) - 1 for g in geoms(layers["third"])]
    assert sum(n > 4 for n in vertex_counts) >= 10
    assert len(shapely.get_coordinates(street_polygon(layers))) > 30


def test_micro_grids_lie_inside_their_third_grid_and_never_overlap(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    thirds = by_code(layers["third"])
    micros = geoms(layers["micro"])
    for feature, geom in zip(layers["micro"], micros, strict=True):
        assert geom.is_valid
        assert geom.covered_by(thirds[feature["properties"]["parent_code"]])
        others = [t for code, t in thirds.items() if code != feature["properties"]["parent_code"]]
        assert not any(geom.intersects(t.buffer(-1e-9)) for t in others)
    tree = shapely.STRtree(micros)
    pairs = tree.query(micros, predicate="intersects")
    assert all(a == b for a, b in pairs.T.tolist())


def test_micro_grids_cover_all_four_kinds(layers: dict[str, list[dict[str, Any]]]) -> None:
    kinds = Counter(props(layers["micro"], "micro_type"))
    assert set(kinds) == {"楼宇", "驻街单位", "沿街商户", "项目工地"}
    assert kinds["沿街商户"] >= 10 and kinds["项目工地"] >= 3


def test_dedicated_grids_overlap_comprehensive_grids_by_design(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    thirds = geoms(layers["third"])
    street = street_polygon(layers)
    crossing = 0
    for feature, geom in zip(layers["dedicated"], geoms(layers["dedicated"]), strict=True):
        assert feature["properties"]["unit_name"]
        assert geom.covered_by(street)
        crossing += sum(geom.intersection(t).area > 0 for t in thirds) > 1
    assert crossing >= 2  # some straddle third-grid boundaries (park, school, campus)
    types = set(props(layers["dedicated"], "unit_type"))
    assert {"school", "hospital", "park", "government", "enterprise"} <= types


def test_grid_codes_follow_the_15_digit_scheme_and_are_unique(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    street_code = layers["street"][0]["properties"]["code"]
    assert re.fullmatch(r"410105\d{3}000000", street_code)
    for f in layers["second"]:
        code = f["properties"]["code"]
        assert (
            re.fullmatch(r"\d{15}", code) and code.endswith("000") and not code.endswith("000000")
        )
        assert code[:9] == street_code[:9] and f["properties"]["parent_code"] == street_code
    for f in layers["third"]:
        code, parent = f["properties"]["code"], f["properties"]["parent_code"]
        assert re.fullmatch(r"\d{15}", code) and code[:12] == parent[:12]
        assert not code.endswith("000")
    for f in layers["micro"]:
        assert re.fullmatch(r"\d{15}-M\d{2}", f["properties"]["code"])
        assert f["properties"]["code"].startswith(f["properties"]["parent_code"] + "-M")
    for f in layers["dedicated"]:
        assert re.fullmatch(r"410105\d{3}ZS\d{3}", f["properties"]["code"])
    all_codes = [
        f["properties"]["code"]
        for name in ("street", "second", "third", "micro", "dedicated")
        for f in layers[name]
    ]
    assert len(all_codes) == len(set(all_codes))


def test_grids_have_chinese_names_leaders_and_household_totals(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    assert layers["street"][0]["properties"]["name"].endswith("街道")
    assert all(n.endswith("社区") for n in props(layers["second"], "name"))
    assert all(re.fullmatch(r".+社区第\d+网格", n) for n in props(layers["third"], "name"))
    assert all(n.endswith("专属网格") for n in props(layers["dedicated"], "name"))
    for name in ("street", "second", "third", "micro", "dedicated"):
        assert all(2 <= len(leader) <= 3 for leader in props(layers[name], "leader"))
    assert all(300 <= h <= 500 for h in props(layers["third"], "households"))
    for community in layers["second"]:
        code = community["properties"]["code"]
        members = [f for f in layers["third"] if f["properties"]["parent_code"] == code]
        assert community["properties"]["households"] == sum(props(members, "households"))
    assert layers["street"][0]["properties"]["households"] == sum(
        props(layers["second"], "households")
    )


def test_places_lie_inside_the_street_with_unique_codes_per_kind(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    street = street_polygon(layers)
    for name in ("buildings", "courtyards", "merchants", "enterprises", "sites", "resident_units"):
        codes = props(layers[name], "code")
        assert len(codes) == len(set(codes)), name
        assert all(props(layers[name], "name")), name
        assert all(g.covered_by(street) and g.is_valid for g in geoms(layers[name])), name


def test_buildings_mostly_lie_in_courtyards_or_micro_grids(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    micro_union = shapely.union_all(geoms(layers["micro"]))
    buildings = geoms(layers["buildings"])
    inside = sum(b.covered_by(micro_union) for b in buildings)
    assert inside / len(buildings) >= 0.7
    courtyards = by_code(layers["courtyards"])
    for f, geom in zip(layers["buildings"], buildings, strict=True):
        if f["properties"]["courtyard_code"]:
            assert geom.covered_by(courtyards[f["properties"]["courtyard_code"]])
    for key in ("households", "residents", "floors"):
        assert all(isinstance(v, int) and v >= 0 for v in props(layers["buildings"], key))


def test_courtyards_carry_a_consistent_management_status(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    statuses = Counter(props(layers["courtyards"], "management_status"))
    assert set(statuses) == {"property_managed", "unmanaged", "red_property"}
    for f in layers["courtyards"]:
        p = f["properties"]
        assert (p["property_company"] is None) == (p["management_status"] == "unmanaged")
        assert (p["property_company_code"] is None) == (p["property_company"] is None)
        if p["management_status"] == "red_property":
            assert "红色物业" in p["property_company"]
    # One code per company name, and several companies at work.
    companies = {
        (f["properties"]["property_company_code"], f["properties"]["property_company"])
        for f in layers["courtyards"]
        if f["properties"]["property_company_code"]
    }
    assert len({code for code, _ in companies}) == len(companies) >= 4


def test_merchants_line_the_streets_some_right_on_a_grid_boundary(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    boundaries = shapely.union_all([g.boundary for g in geoms(layers["third"])])
    merchants = shapely.points([f["geometry"]["coordinates"] for f in layers["merchants"]])
    distances = shapely.distance(merchants, boundaries)
    assert (distances == 0).sum() >= 2
    assert (distances < 5 * METRE_DEG).sum() >= 8
    assert np.median(distances) < 50 * METRE_DEG  # street-front, not deep inside blocks
    trades = Counter(props(layers["merchants"], "trade"))
    assert {t for t, _ in trades.most_common(2)} == {"餐饮", "零售"} and len(trades) >= 5
    assert all(
        re.fullmatch(r"92410105[0-9A-Z]{10}", n) for n in props(layers["merchants"], "licence_no")
    )


def test_enterprises_flag_key_tax_sources_and_above_scale_firms(
    layers: dict[str, list[dict[str, Any]]],
) -> None:
    key_tax = props(layers["enterprises"], "key_tax_source")
    above = props(layers["enterprises"], "above_scale")
    assert all(isinstance(v, bool) for v in key_tax + above)
    assert 0 < sum(key_tax) < len(key_tax) and 0 < sum(above) < len(above)


def test_sites_have_ordered_start_and_end_dates(layers: dict[str, list[dict[str, Any]]]) -> None:
    for p in props(layers["sites"], "start_date"), props(layers["sites"], "end_date"):
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in p)
    assert all(f["properties"]["start_date"] < f["properties"]["end_date"] for f in layers["sites"])


def test_cases_have_well_formed_ids_and_consistent_category_codes(
    cases: list[dict[str, str]],
) -> None:
    assert len(cases) == 6000
    assert list(cases[0]) == [
        "external_id",
        "lon",
        "lat",
        "category",
        "category_code",
        "description",
        "source",
        "reported_at",
    ]
    ids = [c["external_id"] for c in cases]
    assert len(ids) == len(set(ids))
    code_of: dict[str, set[str]] = {}
    for c in cases:
        m = re.fullmatch(r"([A-Z])(\d{5})(\d{8})(\d{4})", c["external_id"])
        assert m, c["external_id"]
        assert m.group(2) == (c["category_code"] or "00000")  # 00000: not classified (其他)
        assert m.group(3) == c["reported_at"][:10].replace("-", "")
        assert re.fullmatch(r"-?\d+\.\d{7}", c["lon"]) and re.fullmatch(r"-?\d+\.\d{7}", c["lat"])
        assert c["description"]
        code_of.setdefault(c["category"], set()).add(c["category_code"])
    assert all(len(codes) == 1 for codes in code_of.values())
    assert len({next(iter(v)) for v in code_of.values()}) == len(code_of)
    assert len(code_of) >= 15


def test_case_categories_and_sources_have_realistic_frequencies(
    cases: list[dict[str, str]],
) -> None:
    categories = Counter(c["category"] for c in cases)
    assert categories.most_common(1)[0][0] == "暴露垃圾"
    assert categories["占道经营"] > categories["道路积水"] * 3
    sources = Counter(c["source"] for c in cases)
    assert sources.most_common(1)[0][0] == "grid_patrol"
    assert sources["grid_patrol"] / len(cases) > 0.5
    assert set(sources) == {
        "grid_patrol",
        "resident_wechat",
        "hotline_12345",
        "property_company",
        "camera_sensor",
        "enterprise_service",
    }


def test_nearly_every_case_is_inside_the_street_and_about_one_percent_outside(
    layers: dict[str, list[dict[str, Any]]], cases: list[dict[str, str]]
) -> None:
    street = street_polygon(layers)
    pts = shapely.points([(float(c["lon"]), float(c["lat"])) for c in cases])
    outside = ~shapely.covered_by(pts, street)
    assert 0.005 <= outside.mean() <= 0.02
    # "Just beyond the edge": within a few hundred metres, not in another district.
    assert (shapely.distance(pts[outside], street) < 300 * METRE_DEG).all()


def test_a_handful_of_cases_sit_exactly_on_shared_third_grid_edges(
    layers: dict[str, list[dict[str, Any]]], cases: list[dict[str, str]]
) -> None:
    thirds = geoms(layers["third"])
    pts = shapely.points([(float(c["lon"]), float(c["lat"])) for c in cases])
    on_two = [p for p in pts if sum(shapely.touches(t, p) for t in thirds) >= 2]
    assert 3 <= len(on_two) <= 30


def test_cases_cluster_around_hot_spots(
    layers: dict[str, list[dict[str, Any]]], cases: list[dict[str, str]]
) -> None:
    lon = np.array([float(c["lon"]) for c in cases])
    lat = np.array([float(c["lat"]) for c in cases])
    minx, miny, maxx, maxy = street_polygon(layers).bounds
    counts, _, _ = np.histogram2d(lon, lat, bins=(30, 25), range=((minx, maxx), (miny, maxy)))
    top = np.sort(counts.ravel())[::-1]
    # With no clustering the busiest 10 % of 100 m cells would hold about 10 % of the cases.
    assert top[: len(top) // 10].sum() / counts.sum() > 0.3


def test_case_times_follow_the_daily_and_weekly_rhythm(cases: list[dict[str, str]]) -> None:
    times = [datetime.fromisoformat(c["reported_at"]) for c in cases]
    assert all(c["reported_at"].endswith("+08:00") for c in cases)
    assert all(t.year == 2025 for t in times)
    assert len({t.month for t in times}) == 12
    hours = np.array([t.hour for t in times])
    assert ((hours >= 8) & (hours < 20)).mean() > 0.8
    assert 0.01 < (hours < 8).mean() < 0.15
    weekday = Counter(t.weekday() for t in times)
    assert max(weekday[5], weekday[6]) < min(weekday[d] for d in range(5))
    assert times == sorted(times)


def test_case_types_are_the_seed_taxonomy_under_its_names(cases: list[dict[str, str]]) -> None:
    seed = {c.code: c for c in read_categories()}
    for c in cases:
        if c["category_code"]:
            assert seed[c["category_code"]].name == c["category"], c["external_id"]
        else:
            assert c["category"] == "其他"
    letters = {c["external_id"][0] for c in cases if c["category_code"]}
    assert letters == {"E", "C"}
    for c in cases:
        if c["category_code"]:
            kind = seed[c["category_code"]].kind
            assert c["external_id"][0] == ("C" if kind == "component" else "E")
    unclassified = sum(not c["category_code"] for c in cases)
    assert 0.005 < unclassified / len(cases) < 0.03


def test_the_reference_now_is_the_end_of_the_year(out: dict[str, Path]) -> None:
    manifest = json.loads(out["manifest"].read_text(encoding="utf-8"))
    assert manifest["reference_now"] == "2026-01-01T00:00:00+08:00"
    assert datetime.fromisoformat(manifest["reference_now"]) == reference_now(2025)


def test_same_seed_writes_byte_identical_files(tmp_path: Path, out: dict[str, Path]) -> None:
    again = generate_demo_street(tmp_path / "again")
    for name, path in out.items():
        assert again[name].read_bytes() == path.read_bytes(), name


def test_another_seed_changes_the_street(tmp_path: Path, out: dict[str, Path]) -> None:
    other = generate_demo_street(tmp_path / "other", seed=7, case_count=100, year=2024)
    assert other["third"].read_bytes() != out["third"].read_bytes()
    with other["cases"].open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 100 and all(r["reported_at"].startswith("2024-") for r in rows)


def test_command_line_writes_the_files_and_prints_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main([str(tmp_path / "cli"), "--cases", "200"])
    printed = capsys.readouterr().out
    assert "cases: 200" in printed and "third: 30" in printed
    assert (tmp_path / "cli" / "manifest.json").is_file()
