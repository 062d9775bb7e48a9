"""Case indicators, the rankings leaders look at: 结案率, 按期结案率, 返工率, 延期率, 有效上报率...

Every figure is computed from the case row's own columns (milestones, counters, status), for
the cases reported in a period, per street, community, grid, unit or grid worker, with a total.
Each rate comes with its numerator and denominator, and the answer states the formulas, so a
reader can check any number against the cases behind it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope
from onegrid.cases.deadlines import TIME_ZONE, parse_moment
from onegrid.errors import InvalidInput
from onegrid.stats import repository as repo

GROUPINGS = {
    "street": "街道, the street grid",
    "community": "社区, second-level grids",
    "grid": "网格, third-level grids",
    "unit": "处置单位, the unit a case was dispatched to",
    "worker": "网格员, who reported the case",
}
# The group of cases without the key: no grid at that level, not dispatched, no reporter.
NO_GROUP = {
    "street": "(无此级网格 no grid at this level)",
    "community": "(无此级网格 no grid at this level)",
    "grid": "(无此级网格 no grid at this level)",
    "unit": "(未派遣 not dispatched)",
    "worker": "(无上报人 no reporter)",
}
FORMATS = ("table", "csv", "json")

CLOSED = "closed: cases closed or evaluated, self-handled (自处理) ones included"
SHOULD_BE_CLOSED = (
    "should be closed: closed + awaiting closure (filed, still open, not parked, voided or"
    " merged); parked, voided and merged cases drop out"
)
# rate -> (Chinese name, numerator count, denominator count, their meaning)
RATES = {
    "closure_rate": ("结案率", "closed", "should_be_closed", CLOSED, SHOULD_BE_CLOSED),
    "on_time_closure_rate": (
        "按期结案率",
        "closed_on_time",
        "should_be_closed",
        "closed on time: closed with no step finished after its deadline (late_steps = 0)",
        SHOULD_BE_CLOSED,
    ),
    "rework_rate": (
        "返工率",
        "reworked",
        "handled",
        "reworked: handled cases that failed verification at least once (rework_count > 0)",
        "handled: cases the unit reported back on (reported_back_at set)",
    ),
    "extension_rate": (
        "延期率",
        "extended",
        "dispatched",
        "extended: dispatched cases with at least one approved extension (extension_count > 0)",
        "dispatched: cases dispatched to a unit (dispatched_at set)",
    ),
    "valid_report_rate": (
        "有效上报率",
        "valid_reports",
        "reports",
        "valid reports: cases filed, voided with report_valid = true, or self-handled;"
        " each case once",
        "reports: every case reported in the period, merged duplicates and those still waiting"
        " for screening included",
    ),
}
FORMULAS: dict[str, dict[str, str]] = {
    **{
        rate: {"name": name, "numerator": num_text, "denominator": den_text}
        for rate, (name, _, _, num_text, den_text) in RATES.items()
    },
    "avg_handling_hours": {
        "name": "平均处置时长",
        "numerator": "hours from dispatch (dispatched_at) to report back (reported_back_at),"
        " summed over handled cases; after a rework, to the last report back",
        "denominator": "handled cases with both times",
    },
    "satisfaction": {
        "name": "满意度",
        "numerator": "average: sum of ratings (1-5); share: cases rated 4 or 5",
        "denominator": "cases rated",
    },
    "overdue": {
        "name": "超期",
        "numerator": "cases open now (not parked, closed, evaluated, voided or merged) whose"
        " running step was due before as_of",
        "denominator": "none (a count)",
    },
}


@dataclass(frozen=True)
class IndicatorQuery:
    """What to measure: cases reported in [start, end), grouped `by`, overdue at `as_of`."""

    start: datetime
    end: datetime
    by: str
    as_of: datetime


def indicator_query(
    start: str | None, end: str | None, by: str | None, as_of: str | None, now: datetime
) -> IndicatorQuery:
    """Read and check the request; each refusal names its field (from, to, by, as_of)."""
    if by not in GROUPINGS:
        raise InvalidInput(
            f"by must be one of {', '.join(GROUPINGS)}, not {by!r}",
            field="by",
            allowed=list(GROUPINGS),
        )
    begin, finish = parse_moment(start, "from"), parse_moment(end, "to")
    if begin >= finish:
        raise InvalidInput(
            f"the period is empty: to ({end}) must be after from ({start})", field="to"
        )
    moment = parse_moment(as_of, "as_of") if as_of else now
    return IndicatorQuery(begin, finish, by, moment)


def case_indicators(session: Session, query: IndicatorQuery, *, scope: Scope) -> dict[str, Any]:
    """Indicators per group and in total over the cases `scope` sees, with their formulas,
    numerators and denominators."""
    rows = repo.indicator_rows(session, query.by, query.start, query.end, query.as_of, scope)
    # ROLLUP gives the total row last, even for a period without cases.
    *groups, total = (_figures(r, query.by) for r in rows)
    return {
        "by": query.by,
        "from": _beijing(query.start),
        "to": _beijing(query.end),
        "as_of": _beijing(query.as_of),
        "formulas": FORMULAS,
        "groups": groups,
        "total": total,
    }


def _beijing(moment: datetime) -> str:
    return moment.astimezone(TIME_ZONE).isoformat(timespec="seconds")


# The counts in every row, in this order; the rates and averages follow them.
ROW_COUNTS = (
    "reports",
    "filed",
    "closed",
    "closed_on_time",
    "self_handled",
    "awaiting_closure",
    "should_be_closed",
    "parked",
    "voided",
    "voided_valid",
    "merged",
    "valid_reports",
    "dispatched",
    "extended",
    "handled",
    "reworked",
    "overdue",
)


def _ratio(numerator: float, denominator: int, places: int = 4) -> float | None:
    """None for an empty denominator: "no cases to measure", never a division error."""
    return round(numerator / denominator, places) if denominator else None


def _figures(row: dict[str, Any], by: str) -> dict[str, Any]:
    def count(name: str) -> int:
        return int(row.get(name) or 0)  # a sum over no cases is NULL

    counts = {name: count(name) for name in ROW_COUNTS if name != "should_be_closed"}
    counts["should_be_closed"] = counts["closed"] + counts["awaiting_closure"]
    if row["is_total"]:
        code, name = None, "total"
    else:
        code = row["code"]
        name = row["name"] if code is not None else NO_GROUP[by]
    figures: dict[str, Any] = {"code": code, "name": name}
    figures.update((key, counts[key]) for key in ROW_COUNTS)
    for rate, (_, num, den, _, _) in RATES.items():
        figures[rate] = {
            "value": _ratio(counts[num], counts[den]),
            "numerator": counts[num],
            "denominator": counts[den],
        }
    hours = float(row.get("handling_s") or 0) / 3600
    figures["avg_handling_hours"] = {
        "value": _ratio(hours, count("timed"), 2),
        "total_hours": round(hours, 2),
        "cases": count("timed"),
    }
    figures["satisfaction"] = {
        "average": _ratio(count("satisfaction_sum"), count("rated"), 2),
        "satisfied_share": _ratio(count("satisfied"), count("rated")),
        "satisfied": count("satisfied"),
        "rated": count("rated"),
    }
    return figures


# --- the command line's renderings -------------------------------------------------------------

TABLE_COLUMNS = (
    ("code", "code"),
    ("name", "name"),
    ("reports", "上报"),
    ("filed", "立案"),
    ("closed", "结案"),
    ("should_be_closed", "应结案"),
    ("closure_rate", "结案率"),
    ("on_time_closure_rate", "按期结案率"),
    ("rework_rate", "返工率"),
    ("extension_rate", "延期率"),
    ("overdue", "超期"),
    ("valid_report_rate", "有效上报率"),
    ("avg_handling_hours", "处置h"),
    ("satisfaction", "满意度"),
)


def _cell(figures: dict[str, Any], key: str) -> str:
    value = figures[key]
    if key in RATES:
        share = "-" if value["value"] is None else f"{100 * value['value']:.1f}%"
        return f"{share} ({value['numerator']}/{value['denominator']})"
    if key == "avg_handling_hours":
        return "-" if value["value"] is None else f"{value['value']:.2f}"
    if key == "satisfaction":
        if value["average"] is None:
            return "- (0 rated)"
        return (
            f"{value['average']:.2f}, {100 * value['satisfied_share']:.0f}% 4-5 of {value['rated']}"
        )
    return "" if value is None else str(value)


def _width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_table(result: dict[str, Any]) -> str:
    """A plain text table, one line per group and the total, with the formulas under it."""
    rows = [
        [_cell(f, key) for key, _ in TABLE_COLUMNS] for f in [*result["groups"], result["total"]]
    ]
    head = [title for _, title in TABLE_COLUMNS]
    widths = [max(_width(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        padded = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - _width(cell))
            padded.append(cell + pad if i < 2 else pad + cell)  # text left, figures right
        return "  ".join(padded).rstrip()

    out = [
        f"Case indicators by {result['by']} ({GROUPINGS[result['by']]}), cases reported from"
        f" {result['from']} to {result['to']} (to excluded); overdue as of {result['as_of']}",
        line(head),
        line(["-" * w for w in widths]),
        *(line(r) for r in rows[:-1]),
        line(["-" * w for w in widths]),
        line(rows[-1]),
        "",
        "Formulas (a rate with no cases in its denominator is shown as -):",
    ]
    for key, formula in FORMULAS.items():
        out.append(f"  {key} {formula['name']}")
        out.append(f"    = {formula['numerator']}")
        out.append(f"    / {formula['denominator']}")
    return "\n".join(out)


def flat_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat dict per group and the total (for CSV): rates as value, numerator, denominator."""
    out = []
    for figures in [*result["groups"], result["total"]]:
        flat: dict[str, Any] = {}
        for key, value in figures.items():
            if isinstance(value, dict):
                for part, number in value.items():
                    flat[key if part in ("value", "average") else f"{key}_{part}"] = number
            else:
                flat[key] = value
        out.append(flat)
    return out


def render_csv(result: dict[str, Any]) -> str:
    rows = flat_rows(result)
    for row in rows:
        # Codes and names are typed by people (a reporter's name): a spreadsheet must show a
        # cell that starts like a formula, not run it (as cases/service.py does for exports).
        for key in ("code", "name"):
            if isinstance(row[key], str) and row[key][:1] in ("=", "+", "-", "@", "\t", "\r"):
                row[key] = "'" + row[key]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
