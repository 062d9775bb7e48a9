"""What every export shares: the grid assignment columns, and CSV cells a spreadsheet
shows but never runs."""

from __future__ import annotations

from typing import Any

# How a case or place was assigned, by grid code per level (the same in every export).
ASSIGNMENT_EXPORT_COLUMNS = (
    "street_code",
    "second_code",
    "third_code",
    "micro_code",
    "dedicated_code",
    "responsible_code",
    "on_boundary",
    "outside_coverage",
    "nearest_code",
    "nearest_m",
)


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will show, not run: text that starts like a formula
    (=, +, -, @) gets a leading apostrophe, as OWASP advises for CSV exports."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
