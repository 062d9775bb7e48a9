"""Reading the times people put in case files, fast, into UTC.

Accepted: ISO 8601 with or without an offset ('Z' too), ``MM/DD/YYYY hh:mm:ss AM/PM``
(US exports such as SF 311), ``YYYY-MM-DD hh:mm[:ss]`` and ``YYYY/MM/DD hh:mm[:ss]``.
Day-first dates (31/12/2020) are not guessed: they are reported as unreadable.

Times without an offset are wall-clock times in ``time_zone`` (default Asia/Shanghai),
localised with zoneinfo rules through pandas. pytz is never used: attaching a pytz zone
with ``tzinfo=`` gives Shanghai's local mean time, +08:06 (fault B22).

An empty value means "time unknown": it becomes NaT with no error.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from onegrid.errors import InvalidInput

DEFAULT_TIME_ZONE = "Asia/Shanghai"
EXPECTED = "expected ISO 8601, MM/DD/YYYY hh:mm:ss AM/PM or YYYY-MM-DD hh:mm"

# Explicit formats parse in pandas' C code, tens of times faster than guessing per value.
_NAIVE_FORMATS = [
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
]
_ISO = "ISO8601"
_HAS_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}")
_EMPTY = {"", "nan", "nat", "none", "null"}
_SNIFF = 200


def zone(time_zone: str) -> ZoneInfo:
    """The IANA zone, or InvalidInput naming the bad value."""
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInput(
            f"unknown time zone {time_zone!r}; use an IANA name such as Asia/Shanghai",
            field="time_zone",
        ) from error


def unreadable_reason(value: str) -> str:
    """The reason given for a value that is not a time in any accepted form."""
    return f"cannot read {value!r} as a time; {EXPECTED}"


def parse_times(
    values: pd.Series, *, time_zone: str = DEFAULT_TIME_ZONE
) -> tuple[pd.Series, pd.Series]:
    """Parse a Series of time strings to UTC.

    Returns (times, reasons): ``times`` is datetime64[us, UTC] with NaT for empty or
    unreadable values; ``reasons`` holds None or the reason a non-empty value could not be
    read (without the field name: callers put that in the Rejection's field).
    """
    tz = zone(time_zone)
    text = values.astype("string").str.strip()
    empty = text.isna() | text.str.lower().isin(_EMPTY)
    times = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    todo = text[~empty]

    for fmt in _format_order(todo):
        if todo.empty:
            break
        if fmt == _ISO:
            # ISO values may mix offsets and naive times: parse each group on its own.
            iso = todo[todo.str.match(_ISO_START)]
            has_offset = iso.str.contains(_HAS_OFFSET)
            aware = _to_datetime(iso[has_offset], _ISO, utc=True)
            naive = _localise(_to_datetime(iso[~has_offset], _ISO), tz)
            parsed = pd.concat([aware, naive]).dropna()
        else:
            parsed = _localise(_to_datetime(todo, fmt), tz).dropna()
        times.loc[parsed.index] = parsed
        todo = todo.drop(parsed.index)

    # The few left over: Python's own ISO reader (odd precisions), one value at a time.
    reasons = pd.Series(np.full(len(values), None, dtype=object), index=values.index)
    for index, value in todo.items():
        parsed_one = _parse_fallback(str(value), tz)
        if parsed_one is None:
            reasons.loc[index] = unreadable_reason(str(value))
        else:
            times.loc[index] = parsed_one
    return times, reasons


def parse_time(value: object, *, time_zone: str = DEFAULT_TIME_ZONE) -> pd.Timestamp | None:
    """Parse one time to a UTC Timestamp; None when empty; InvalidInput when unreadable."""
    if value is None:
        return None
    times, reasons = parse_times(pd.Series([str(value)]), time_zone=time_zone)
    if reasons.iloc[0] is not None:
        raise InvalidInput(reasons.iloc[0])
    result = times.iloc[0]
    return None if pd.isna(result) else result


def _format_order(sample_from: pd.Series) -> list[str]:
    """Formats sorted by how many of the first values they read, so the common one runs first."""
    sample = sample_from.iloc[:_SNIFF]
    hits = {}
    for fmt in [_ISO, *_NAIVE_FORMATS]:
        hits[fmt] = int(_to_datetime(sample, fmt, utc=fmt == _ISO).notna().sum())
    return sorted(hits, key=lambda fmt: -hits[fmt])


def _to_datetime(values: pd.Series, fmt: str, *, utc: bool = False) -> pd.Series:
    if values.empty:
        return pd.Series(dtype="datetime64[us, UTC]" if utc else "datetime64[us]")
    return pd.to_datetime(values, format=fmt, errors="coerce", utc=utc)


def _localise(naive: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Wall-clock times in ``tz`` to UTC.

    In the autumn DST overlap the first (daylight) reading is taken, as zoneinfo's
    fold=0 does; a time in the spring gap is moved forward. Neither occurs in China.
    """
    if naive.empty:
        return pd.Series(dtype="datetime64[us, UTC]")
    if naive.dt.tz is not None:  # ISO parsing of a group can come back aware already
        return naive.dt.tz_convert("UTC")
    local = naive.dt.tz_localize(
        tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return local.dt.tz_convert("UTC")


def _parse_fallback(value: str, tz: ZoneInfo) -> pd.Timestamp | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return pd.Timestamp(parsed).tz_convert("UTC")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        return None
