"""Streaming case files: every bad row rejected with its row and reason, none lost."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from tests.shared_data import shared_data_path

from onegrid.errors import InvalidInput
from onegrid.ingest.readers import CASE_COLUMNS, iter_case_chunks

BEIJING = (116.2, 39.7, 116.6, 40.1)

BAD_ROWS_CSV = """case_id,opened,category,lon,lat,description
C1,2024-05-27 23:30,垃圾,116.405,39.905,fine
C2,2024-05-28 08:00,占道,,,no location: kept
C3,2024-05-28 08:00,占道,116.405,,half missing
C4,2024-05-28 08:00,占道,abc,39.905,not a number
C5,2024-05-28 08:00,占道,39.905,116.405,swapped
C6,2024-05-28 08:00,占道,190,39.905,lon out of range
C7,2024-05-28 08:00,占道,12958400,4852000,mercator without crs
C8,31/31/2020,占道,116.405,39.905,bad time
C1,2024-05-28 08:00,垃圾,116.405,39.905,duplicate id
C9,,井盖,116.401,39.901,time unknown: kept
,2024-05-28 09:00,井盖,116.402,39.902,no id: kept
C10,2024-05-28 08:00,占道,39.47,75.99,far outside the area
C11,2024-05-28 08:00,占道,nan,NaN,no location tokens: kept
"""


def read_all(path, **options):
    chunks = list(iter_case_chunks(path, **options))
    rows = pd.concat([c.rows for c in chunks], ignore_index=True)
    rejected = [r for c in chunks for r in c.rejected]
    return chunks, rows, rejected


def test_every_kind_of_bad_row_is_rejected_with_its_row_number_and_reason(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(BAD_ROWS_CSV, encoding="utf-8")
    _, rows, rejected = read_all(path, extent=BEIJING)
    assert list(rows.columns) == CASE_COLUMNS
    assert rows["row"].tolist() == [2, 3, 11, 12, 14]
    ids = rows["external_id"].tolist()
    assert ids[:3] + ids[4:] == ["C1", "C2", "C9", "C11"]
    assert ids[3].startswith("h") and len(ids[3]) == 17  # made from the row's content
    assert rows["location_missing"].tolist() == [False, True, False, False, True]
    assert {(r.row, r.index, r.code, r.field, r.reason) for r in rejected} == {
        (4, 3, "C3", "lat", "latitude is missing while the other coordinate is given"),
        (5, 4, "C4", "lon", "longitude 'abc' is not a number"),
        (
            6,
            5,
            "C5",
            "lat",
            "latitude 116.405 is outside [-90, 90]: latitude and longitude look swapped",
        ),
        (7, 6, "C6", "lon", "longitude 190 is outside [-180, 180]"),
        (
            8,
            7,
            "C7",
            "lon",
            "longitude 12958400 is outside [-180, 180]: these look like "
            "projected metres; say which CRS (e.g. EPSG:3857)",
        ),
        (
            9,
            8,
            "C8",
            "opened",
            "cannot read '31/31/2020' as a time; expected ISO 8601, "
            "MM/DD/YYYY hh:mm:ss AM/PM or YYYY-MM-DD hh:mm",
        ),
        (10, 9, "C1", "case_id", "duplicate external_id 'C1': row 2 has the same id"),
        (
            13,
            12,
            "C10",
            "lon,lat",
            "point (39.47 75.99) is far outside the area served "
            "(116.2 39.7 116.6 40.1): wrong coordinate system or "
            "axis order?",
        ),
    }
    assert (
        rejected[0].describe() == "row 4 (C3): lat: latitude is missing while the other "
        "coordinate is given"
    )
    first = rows.iloc[0]
    assert first["reported_at"] == pd.Timestamp("2024-05-27T15:30:00Z")
    assert (first["lon"], first["lat"], first["raw_x"], first["raw_y"]) == (
        116.405,
        39.905,
        116.405,
        39.905,
    )
    assert first["raw_crs"] == "wgs84" and first["category"] == "垃圾"
    assert pd.isna(rows.iloc[2]["reported_at"])  # empty time: unknown, not an error
    assert np.isnan(rows.iloc[1]["lon"]) and np.isnan(rows.iloc[4]["lat"])


def test_small_chunks_give_the_same_answer_and_catch_duplicates_across_chunks(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(BAD_ROWS_CSV, encoding="utf-8")
    _, whole, whole_rejected = read_all(path, extent=BEIJING)
    chunks, rows, rejected = read_all(path, extent=BEIJING, chunk_size=3)
    assert [c.total_rows for c in chunks] == [3, 6, 9, 12, 13]
    assert all(len(c.rows) + len(c.rejected) <= 3 for c in chunks)
    pd.testing.assert_frame_equal(rows, whole)
    assert rejected == whole_rejected


def test_us_format_times_in_a_csv_are_read_in_the_given_zone(tmp_path):
    path = tmp_path / "sf.csv"
    path.write_text(
        "case_id,opened,category,latitude,longitude\n"
        "3600298,04/30/2014 02:51:52 PM,Sewer Issues,37.774007,-122.395680\n"
        "1167331,07/15/2012 08:08:00 AM,Street Cleaning,37.756367,-122.483400\n",
        encoding="utf-8",
    )
    _, rows, rejected = read_all(path, time_zone="America/Los_Angeles")
    assert rejected == []
    assert rows["reported_at"].tolist() == [
        pd.Timestamp("2014-04-30T21:51:52Z"),
        pd.Timestamp("2012-07-15T15:08:00Z"),
    ]
    assert rows["lon"].tolist() == [-122.39568, -122.4834]


def test_gcj02_cases_are_converted_and_keep_their_raw_coordinates(tmp_path):
    path = tmp_path / "wechat.csv"
    path.write_text(
        "id,time,经度,纬度\nW1,2024-05-28T08:00:00+08:00,116.38404722455657,39.91334545536069\n",
        encoding="utf-8",
    )
    _, rows, _ = read_all(path, crs="gcj02")
    row = rows.iloc[0]
    assert row["lon"] == pytest.approx(116.377817, abs=1e-7)
    assert row["lat"] == pytest.approx(39.911954, abs=1e-7)
    assert (row["raw_x"], row["raw_y"], row["raw_crs"]) == (
        116.38404722455657,
        39.91334545536069,
        "gcj02",
    )


def test_b12_mercator_cases_are_accepted_when_the_crs_is_given(tmp_path):
    path = tmp_path / "mercator.csv"
    path.write_text("id,x,y\nM1,12958400,4852000\n", encoding="utf-8")
    _, rows, rejected = read_all(path, crs="EPSG:3857")
    assert rejected == []
    assert rows["lon"][0] == pytest.approx(116.4073, abs=1e-3)


def test_named_field_absent_stops_the_import_naming_available_columns(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(BAD_ROWS_CSV, encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        next(iter_case_chunks(path, category_field="kind"))
    assert error.value.field == "category_field"
    assert (
        "category_field 'kind' not found in cases.csv; available fields: case_id, opened, "
        "category, lon, lat, description" == error.value.message
    )


def test_csv_without_coordinate_columns_is_invalid_input(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("id,category\n1,垃圾\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no longitude column found"):
        next(iter_case_chunks(path))


def test_gbk_csv_from_excel_is_read(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes(
        "编号,类别,经度,纬度,上报时间\nG1,井盖缺失,116.4,39.9,2024/05/28 08:00\n".encode("gbk")
    )
    _, rows, rejected = read_all(path)
    assert rejected == [] and rows["category"][0] == "井盖缺失"
    assert rows["reported_at"][0] == pd.Timestamp("2024-05-28T00:00:00Z")


def test_point_geojson_cases_use_feature_index_as_row(tmp_path):
    def point(x, y):
        return {"type": "Point", "coordinates": [x, y]}

    features = [
        {
            "type": "Feature",
            "geometry": point(116.40, 39.90),
            "properties": {"id": "G1", "category": "垃圾", "reported_at": "2024-05-28 08:00"},
        },
        {"type": "Feature", "geometry": None, "properties": {"id": "G2"}},
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[116.39, 39.9], [116.4, 39.9], [116.4, 39.91], [116.39, 39.9]]],
            },
            "properties": {"id": "G3"},
        },
        {"type": "Feature", "geometry": point(39.90, 116.40), "properties": {"id": "G4"}},
    ]
    path = tmp_path / "cases.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    _, rows, rejected = read_all(path)
    assert rows["row"].tolist() == [0, 1]
    assert rows["location_missing"].tolist() == [False, True]
    assert rows["reported_at"][0] == pd.Timestamp("2024-05-28T00:00:00Z")
    assert [(r.index, r.row, r.code) for r in rejected] == [(2, None, "G3"), (3, None, "G4")]
    assert rejected[0].reason.startswith("expected a Point, got a Polygon")
    assert "look swapped" in rejected[1].reason


def test_a_million_rows_stream_in_well_under_30_seconds(tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(3)
    stamps = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), "s")
    frame = pd.DataFrame(
        {
            "id": np.arange(n).astype(str),
            "category": rng.choice(["垃圾", "占道", "井盖"], n),
            "lon": np.round(116.39 + rng.random(n) * 0.02, 6),
            "lat": np.round(39.90 + rng.random(n) * 0.02, 6),
            "reported_at": stamps.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    path = tmp_path / "million.csv"
    frame.to_csv(path, index=False)
    started = time.perf_counter()
    kept = rejected = 0
    for chunk in iter_case_chunks(path, crs="gcj02", chunk_size=100_000):
        assert len(chunk.rows) + len(chunk.rejected) <= 100_000
        kept += len(chunk.rows)
        rejected += len(chunk.rejected)
    elapsed = time.perf_counter() - started
    assert (kept, rejected) == (n, 0)
    # About 5 s on an idle 2-core machine (GCJ-02 conversion included).
    assert elapsed < 30, f"took {elapsed:.1f} s"


def test_real_sf311_file_keeps_every_row_and_24_without_location():
    path = shared_data_path("data", "sf311", "cases.csv")
    _, rows, rejected = read_all(path, time_zone="America/Los_Angeles")
    assert len(rows) + len(rejected) == 10_000
    assert rejected == []
    assert int(rows["location_missing"].sum()) == 24
    assert rows["external_id"].is_unique
    assert rows["reported_at"].notna().all()
    located = rows[~rows["location_missing"]]
    assert located["lon"].between(-122.52, -122.35).all()
    assert located["lat"].between(37.70, 37.84).all()


def test_made_up_ids_follow_the_content_so_a_report_is_recognised_in_any_file(tmp_path):
    first = tmp_path / "a.csv"
    first.write_text("lon,lat,time\n116.40,39.90,2024-05-28 07:00\n", encoding="utf-8")
    grown = tmp_path / "b.csv"  # the same report, a new one after it, Windows line ends
    grown.write_text(
        "lon,lat,time\r\n116.40,39.90,2024-05-28 07:00\r\n116.41,39.91,2024-05-28 08:00\r\n",
        encoding="utf-8",
    )
    id_a = read_all(first)[1]["external_id"][0]
    ids_b = read_all(grown)[1]["external_id"].tolist()
    assert ids_b[0] == id_a and ids_b[1] != id_a


def test_identical_rows_without_ids_are_caught_as_duplicates(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("lon,lat,time\n116.4,39.9,2024-05-28 07:00\n116.4,39.9,2024-05-28 07:00\n")
    _, rows, rejected = read_all(path)
    assert len(rows) == 1 and [r.row for r in rejected] == [3]


def test_times_in_the_future_or_before_1990_are_rejected(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "id,lon,lat,time\nold,116.4,39.9,1900-01-01 08:00\nnew,116.4,39.9,2999-01-01 08:00\n"
        "ok,116.4,39.9,2024-05-28 07:00\n",
        encoding="utf-8",
    )
    _, rows, rejected = read_all(path)
    assert rows["external_id"].tolist() == ["ok"]
    reasons = {r.code: r.reason for r in rejected}
    assert "before 1990" in reasons["old"] and "future" in reasons["new"]


def test_a_utf16_excel_text_file_gets_a_clear_hint(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_text("lon\tlat\n116.4\t39.9\n", encoding="utf-16")
    with pytest.raises(InvalidInput, match="UTF-16.*CSV UTF-8"):
        read_all(path)
