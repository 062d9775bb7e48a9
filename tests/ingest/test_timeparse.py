"""Reported times in the forms case files use, to UTC (fault B22's LMT trap included)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from onegrid.errors import InvalidInput
from onegrid.ingest.timeparse import parse_time, parse_times


@pytest.mark.parametrize(
    "text,utc",
    [
        ("2024-05-27T23:30:00+08:00", "2024-05-27T15:30:00Z"),
        ("2024-05-27T15:30:00Z", "2024-05-27T15:30:00Z"),
        ("2024-05-27T23:30:00", "2024-05-27T15:30:00Z"),  # naive ISO: Asia/Shanghai
        ("2024-05-27 23:30", "2024-05-27T15:30:00Z"),
        ("2024-05-27 23:30:05", "2024-05-27T15:30:05Z"),
        ("2024/05/27 23:30", "2024-05-27T15:30:00Z"),
        ("2024/05/27 23:30:05", "2024-05-27T15:30:05Z"),
        ("05/27/2024 11:30:00 PM", "2024-05-27T15:30:00Z"),
        ("05/28/2024 07:00:00 AM", "2024-05-27T23:00:00Z"),
    ],
)
def test_accepted_forms_parse_to_utc(text, utc):
    assert parse_time(text) == pd.Timestamp(utc)


def test_naive_shanghai_time_is_plus_eight_not_lmt_plus_0806():
    # pytz's tzinfo= would give +08:06 and shift this by six minutes.
    assert parse_time("2024-05-27 23:30") == pd.Timestamp("2024-05-27T15:30:00Z")


def test_us_format_in_los_angeles_follows_daylight_saving():
    times, reasons = parse_times(
        pd.Series(["04/30/2014 02:51:52 PM", "01/15/2014 02:51:52 PM"]),
        time_zone="America/Los_Angeles",
    )
    assert list(times) == [
        pd.Timestamp("2014-04-30T21:51:52Z"),
        pd.Timestamp("2014-01-15T22:51:52Z"),
    ]
    assert reasons.isna().all()


def test_mixed_offsets_and_naive_values_in_one_series():
    values = pd.Series(
        [
            "2024-01-01T08:00:00+08:00",
            "2024-01-01T00:00:00Z",
            "2024-01-01 08:00",
            "01/01/2024 08:00:00 AM",
        ]
    )
    times, reasons = parse_times(values)
    assert (times == pd.Timestamp("2024-01-01T00:00:00Z")).all()
    assert reasons.isna().all()


def test_empty_values_mean_time_unknown_without_an_error():
    times, reasons = parse_times(pd.Series(["", "  ", None, "2024-01-01 08:00"]))
    assert times.isna().tolist() == [True, True, True, False]
    assert reasons.isna().all()
    assert parse_time("") is None and parse_time(None) is None


def test_unreadable_time_gets_a_reason_naming_the_value_and_the_forms():
    times, reasons = parse_times(pd.Series(["31/31/2020", "2024-01-01 08:00"]))
    assert pd.isna(times[0])
    assert reasons[0] == (
        "cannot read '31/31/2020' as a time; expected ISO 8601, "
        "MM/DD/YYYY hh:mm:ss AM/PM or YYYY-MM-DD hh:mm"
    )
    assert reasons[1] is None
    with pytest.raises(InvalidInput, match="cannot read 'tomorrow'"):
        parse_time("tomorrow")


def test_unknown_time_zone_is_invalid_input():
    with pytest.raises(InvalidInput, match="unknown time zone 'Mars/Olympus'"):
        parse_times(pd.Series(["2024-01-01 08:00"]), time_zone="Mars/Olympus")


def test_a_million_values_parse_in_a_few_seconds():
    rng = np.random.default_rng(7)
    stamps = pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 10**8, 1_000_000), "s")
    values = pd.Series(stamps.strftime("%m/%d/%Y %I:%M:%S %p"))
    values[::10_000] = "not a time"
    started = time.perf_counter()
    times, reasons = parse_times(values)
    elapsed = time.perf_counter() - started
    # About 2 s on an idle 2-core machine; the bound leaves room for a busy CI runner.
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert reasons.notna().sum() == 100
    expected = stamps.tz_localize("Asia/Shanghai").tz_convert("UTC")
    ok = reasons.isna().to_numpy()
    assert (times[ok].to_numpy() == expected[ok]).all()
