"""What every export shares: CSV cells a spreadsheet shows but never runs."""

from __future__ import annotations

from typing import Any


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will show, not run: text that starts like a formula
    (=, +, -, @) gets a leading apostrophe, as OWASP advises for CSV exports."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
