"""Registry statistics: the street's reporting questions answered from its data.

How many grids of each level; which district departments are sunk into the grids and with how
many staff; the grid staff per duty; the responsibility list per level and how much of it a
grid worker settles on the spot; the property companies; courtyards by management status and
the share of those needing red property (红色物业) that are claimed; key enterprises and those
visited this quarter (万人助万企); problems raised in visits and solved. Every figure is counted
over what the reader's scope sees, and every share comes with its numerator and denominator.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from onegrid.auth.scope import Scope
from onegrid.cases.deadlines import quarter_of
from onegrid.db.base import LEVELS
from onegrid.duties.models import RESPONSIBLE_LEVELS, STAFF_DUTIES
from onegrid.stats import repository as repo

FORMATS = ("table", "json")
LEVEL_NAMES = {
    "street": "街道",
    "second": "社区(二级)",
    "third": "三级网格",
    "micro": "微网格",
    "dedicated": "专属网格",
}
ITEM_LEVEL_NAMES = {"grid": "网格", "community": "社区", "street": "街道", "department": "部门"}


def _rate(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "value": numerator / denominator if denominator else None,
        "numerator": numerator,
        "denominator": denominator,
    }


def _scope_words(scope: Scope) -> str:
    if scope.whole_street:
        return "the whole street"
    if scope.grid_code:
        return f"grid {scope.grid_code} and the grids under it"
    if scope.unit_code:
        return f"the places of unit {scope.unit_code}"
    return "nothing"


def registry_stats(
    session: Session, *, scope: Scope, quarter: str | None, now: datetime
) -> dict[str, Any]:
    """The registry statistics for what `scope` sees; visits counted in `quarter` (default:
    the current one)."""
    label, start, end = quarter_of(quarter, now)
    rows = repo.registry_figures(session, scope, (start, end))
    grids = {r["level"]: r["n"] for r in rows["grids"]}
    staff = {r["duty"]: r["n"] for r in rows["staff"]}
    items = {r["level"]: r for r in rows["items"]}
    departments = rows["departments"]
    companies = rows["companies"]
    yards = rows["courtyards"][0]
    firms = rows["enterprises"][0]
    problems = rows["problems"][0]
    return {
        "scope": _scope_words(scope),
        "quarter": {"label": label, "from": start.isoformat(), "to": end.isoformat()},
        "grids_per_level": {level: grids.get(level, 0) for level in LEVELS},
        "sunk_departments": {
            "count": len(departments),
            "staff": sum(d["sunk_staff"] for d in departments),
            "departments": departments,
        },
        "staff_per_duty": {duty: staff.get(duty, 0) for duty in STAFF_DUTIES},
        "responsibility_items": {
            "total": sum(r["n"] for r in items.values()),
            "on_the_spot": sum(r["on_the_spot"] for r in items.values()),
            "per_level": {
                level: {
                    "items": items[level]["n"] if level in items else 0,
                    "on_the_spot": items[level]["on_the_spot"] if level in items else 0,
                }
                for level in RESPONSIBLE_LEVELS
            },
        },
        "property_companies": {
            "count": len(companies),
            "companies": companies,
            # Party branches (物业党支部) as the units file records them (units.party_branch).
            "party_branches": sum(1 for c in companies if c["party_branch"]),
        },
        "courtyards": {
            **yards,
            # Those needing red property: unmanaged (无主管) ones and those already claimed.
            "claimed_share": _rate(
                yards["red_property"], yards["red_property"] + yards["unmanaged"]
            ),
        },
        "enterprises": {
            **firms,
            "key_visit_rate": _rate(firms["key_visited"], firms["key"]),
        },
        "enterprise_problems": problems,
    }


def _width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _share(rate: dict[str, Any]) -> str:
    value = "-" if rate["value"] is None else f"{100 * rate['value']:.1f}%"
    return f"{value} ({rate['numerator']}/{rate['denominator']})"


def render_table(result: dict[str, Any]) -> str:
    """A plain text table: one line per figure, grouped by question."""
    rows: list[tuple[str, str]] = []

    def section(title: str) -> None:
        rows.append(("", ""))
        rows.append((title, ""))

    section("网格 grids (current boundaries)")
    for level, n in result["grids_per_level"].items():
        rows.append((f"  {LEVEL_NAMES[level]} {level}", str(n)))
    sunk = result["sunk_departments"]
    section("下沉部门 departments sunk into the grids")
    rows.append(("  departments", str(sunk["count"])))
    rows.append(("  their staff in the grids", str(sunk["staff"])))
    for d in sunk["departments"]:
        rows.append(
            (f"  {d['code']} {d['name']}", f"{d['grids_served']} grids, {d['sunk_staff']} staff")
        )
    section("网格力量 grid staff per duty")
    for duty, n in result["staff_per_duty"].items():
        rows.append((f"  {STAFF_DUTIES[duty]} {duty}", str(n)))
    items = result["responsibility_items"]
    section("事项清单 responsibility items (active)")
    for level, figures in items["per_level"].items():
        rows.append(
            (
                f"  {ITEM_LEVEL_NAMES[level]} {level}",
                f"{figures['items']} ({figures['on_the_spot']} on the spot)",
            )
        )
    rows.append(("  total", f"{items['total']} ({items['on_the_spot']} on the spot)"))
    companies = result["property_companies"]
    section("物业公司 property companies")
    rows.append(("  companies", str(companies["count"])))
    for c in companies["companies"]:
        rows.append(
            (
                f"  {c['code']} {c['name']}",
                f"{c['courtyards_managed']} managed, {c['claims_approved']} claimed",
            )
        )
    rows.append(("  party branches 党支部", str(companies["party_branches"])))
    yards = result["courtyards"]
    section("小区/院落 courtyards")
    for key, title in (
        ("total", "total"),
        ("property_managed", "物业管理 property managed"),
        ("unmanaged", "无主管 unmanaged"),
        ("red_property", "红色物业认领 claimed by red property"),
        ("not_recorded", "status not recorded"),
    ):
        rows.append((f"  {title}", str(yards[key])))
    rows.append(("  claimed / (claimed + unmanaged)", _share(yards["claimed_share"])))
    firms = result["enterprises"]
    section(f"企业 enterprises, visits in {result['quarter']['label']}")
    for key, title in (
        ("total", "total"),
        ("key_tax_source", "重点税源 key tax source"),
        ("above_scale", "规上 above scale"),
        ("key", "key (either)"),
        ("visited", "visited this quarter"),
        ("key_visited", "key visited this quarter"),
    ):
        rows.append((f"  {title}", str(firms[key])))
    rows.append(("  key visit rate", _share(firms["key_visit_rate"])))
    problems = result["enterprise_problems"]
    section("企业诉求 problems raised in visits")
    rows.append(("  raised", str(problems["raised"])))
    rows.append(("  became cases", str(problems["became_cases"])))
    rows.append(("  solved (case closed or evaluated)", str(problems["solved"])))

    width = max(_width(label) for label, _ in rows)
    out = [
        f"Registry statistics for {result['scope']}; quarter {result['quarter']['label']}"
        f" ({result['quarter']['from']} to {result['quarter']['to']}, excluded)"
    ]
    for label, value in rows:
        out.append((label + " " * (width - _width(label)) + "  " + value).rstrip())
    return "\n".join(out)
