"""Enterprise service (万人助万企): visits to enterprises, the problems they raise, and the
quarterly visit coverage per grid and per service officer.

A problem becomes a case in the normal workflow (source enterprise_service) through the cases
service, at a point on the enterprise, so it is assigned to its grids and dispatched like
any case; it counts as solved once that case is closed or evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from onegrid.auth.actor import Actor
from onegrid.auth.scope import Scope, place_scope
from onegrid.cases import service as cases_service
from onegrid.cases.deadlines import TIME_ZONE, WorkCalendar, quarter_of
from onegrid.enterprises import repository as repo
from onegrid.errors import Conflict, InvalidInput, NotFound
from onegrid.settings import Settings

# Who records visits and turns problems into cases: the street office and the territory
# staff (each in their grid's subtree); the auditor reads. Departments and property
# companies do not take part in enterprise service.
RECORDERS = frozenset(
    {"street_admin", "street_dispatcher", "community_staff", "grid_leader", "grid_worker"}
)
READERS = RECORDERS | {"auditor"}


def today(now: datetime) -> date:
    return now.astimezone(TIME_ZONE).date()


def record_visit(
    session: Session, data: dict[str, Any], *, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Store a visit and the problems raised in it; 404 for an enterprise outside the
    person's grids (as for one that does not exist)."""
    scope = place_scope(actor)
    enterprise = repo.get_enterprise(session, data["enterprise_id"], scope)
    if enterprise is None:
        raise NotFound(f"no enterprise with id {data['enterprise_id']}", field="enterprise_id")
    if data["visited_on"] > today(now):
        raise InvalidInput(
            f"visited_on {data['visited_on']} is in the future (today is {today(now)})",
            field="visited_on",
        )
    texts = {k: (data[k] or "").strip() for k in ("officer", "discussed")}
    for name, text in texts.items():
        if not text:
            raise InvalidInput(f"{name} is blank", field=name)
    problems = []
    for i, p in enumerate(data.get("problems") or []):
        description = (p["description"] or "").strip()
        if not description:
            raise InvalidInput(
                f"problem {i + 1} has a blank description", field=f"problems.{i}.description"
            )
        problems.append(
            {
                "description": description,
                "category_code": (p.get("category_code") or "").strip() or None,
            }
        )
    wanted = [p["category_code"] for p in problems if p["category_code"]]
    known = repo.known_categories(session, wanted) if wanted else set()
    for i, p in enumerate(problems):
        if p["category_code"] and p["category_code"] not in known:
            raise InvalidInput(
                f"problem {i + 1}: unknown category_code {p['category_code']!r}"
                " (GET /api/categories lists the types)",
                field=f"problems.{i}.category_code",
            )
    visit_id = repo.insert_visit(
        session,
        {
            "enterprise_id": enterprise["id"],
            "visited_on": data["visited_on"],
            **texts,
            "recorded_by": actor.name,
            "recorded_at": now,
        },
    )
    repo.insert_problems(session, visit_id, problems)
    return get_visit(session, visit_id, scope=scope)


def get_visit(session: Session, visit_id: int, *, scope: Scope) -> dict[str, Any]:
    visits = _with_problems(session, repo.list_visits(session, scope, {"visit": visit_id}, 1, 0))
    if not visits:
        raise NotFound(f"no visit with id {visit_id}", field="id")
    return visits[0]


def list_visits(
    session: Session,
    *,
    scope: Scope,
    enterprise: int | None = None,
    officer: str | None = None,
    grid: str | None = None,
    from_: str | None = None,
    to: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Visits to the enterprises the person sees, latest first; `from_` and `to` are dates,
    both included."""
    if grid is not None and not repo.grid_exists(session, grid):
        raise InvalidInput(f"no current grid with code {grid!r}", field="grid")
    first_day, last_day = _date(from_, "from"), _date(to, "to")
    if first_day and last_day and last_day < first_day:
        raise InvalidInput(f"to ({last_day}) is before from ({first_day})", field="to")
    filters = {
        "enterprise": enterprise,
        "officer": officer,
        "grid": grid,
        "first_day": first_day,
        "last_day": last_day,
    }
    return _with_problems(session, repo.list_visits(session, scope, filters, limit, offset))


def _date(text: str | None, field: str) -> date | None:
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"{field} must be a date such as 2026-10-01, not {text!r}", field=field
        ) from exc


def _with_problems(session: Session, visits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    problems = repo.problems_of(session, [v["id"] for v in visits]) if visits else []
    by_visit: dict[int, list[dict[str, Any]]] = {}
    for p in problems:
        by_visit.setdefault(p["visit_id"], []).append(p)
    return [
        {
            **v,
            "recorded_at": v["recorded_at"].astimezone(TIME_ZONE),
            "problems": by_visit.get(v["id"], []),
        }
        for v in visits
    ]


def problem_to_case(
    session: Session,
    problem_id: int,
    data: dict[str, Any],
    *,
    actor: Actor,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> dict[str, Any]:
    """Report the problem as a case (source enterprise_service) at the enterprise, through
    the cases service, and link the two; 409 if the problem already has its case."""
    scope = place_scope(actor)
    problem = repo.get_problem(session, problem_id, scope)
    if problem is None:
        raise NotFound(f"no visit problem with id {problem_id}", field="id")
    if problem["case_id"] is not None:
        raise Conflict(
            f"problem {problem_id} is already case {problem['case_id']}",
            field="id",
            case_id=problem["case_id"],
        )
    enterprise = repo.get_enterprise(session, problem["enterprise_id"], scope)
    assert enterprise is not None  # seen with its problem, in the same transaction
    case, _ = cases_service.create_case(
        session,
        {
            "lon": enterprise["lon"],
            "lat": enterprise["lat"],
            "crs": "wgs84",
            "category_code": data.get("category_code") or problem["category_code"],
            "description": f"{problem['description']}（企业服务：{enterprise['name'] or '企业'}，"
            f"{problem['visited_on']} 走访）",
            "source": "enterprise_service",
            "urgent": data.get("urgent"),
        },
        now=now,
        calendar=calendar,
        settings=settings,
        reporter=actor,
    )
    repo.link_case(session, problem_id, case["id"])
    return {"problem": repo.problem(session, problem_id), "case": case}


def parse_quarter(text: str | None, now: datetime) -> tuple[str, date, date]:
    """'2026Q4' → ('2026Q4', 2026-10-01, 2026-12-31); none: the current quarter (Beijing)."""
    label, first, after = quarter_of(text, now)
    return label, first, after - timedelta(days=1)


def visit_coverage(session: Session, quarter: str | None, *, scope: Scope, now: datetime) -> dict:
    """Per community, third-level grid and service officer: enterprises, those visited at
    least once in the quarter and their share, problems raised and solved; and the
    enterprises not yet visited that quarter."""
    name, first_day, last_day = parse_quarter(quarter, now)
    enterprises = repo.enterprises_in_period(session, scope, first_day, last_day)
    visits = repo.visits_in_period(session, scope, first_day, last_day)
    raised: dict[int, int] = {}
    solved: dict[int, int] = {}
    for v in visits:
        raised[v["enterprise_id"]] = raised.get(v["enterprise_id"], 0) + v["raised"]
        solved[v["enterprise_id"]] = solved.get(v["enterprise_id"], 0) + v["solved"]

    def groups(code: str, label: str) -> list[dict[str, Any]]:
        return _group(
            enterprises,
            key=lambda e: (e[code], e[label]),
            make=lambda k: {"code": k[0], "name": k[1]},
            raised=raised,
            solved=solved,
        )

    return {
        "quarter": name,
        "first_day": first_day,
        "last_day": last_day,
        **_counts(enterprises),
        "visits": len(visits),
        "problems_raised": sum(v["raised"] for v in visits),
        "problems_turned_into_cases": sum(v["with_case"] for v in visits),
        "problems_solved": sum(v["solved"] for v in visits),
        "communities": groups("community_code", "community_name"),
        "grids": groups("grid_code", "grid_name"),
        "officers": _officers(enterprises, visits),
        "unvisited": [{k: e[k] for k in UNVISITED_FIELDS} for e in enterprises if not e["visits"]],
    }


UNVISITED_FIELDS = (
    "id",
    "code",
    "name",
    "service_officer",
    "key_tax_source",
    "above_scale",
    "community_code",
    "community_name",
    "grid_code",
    "grid_name",
    "last_visited_on",
)


def _counts(enterprises: Iterable[dict[str, Any]]) -> dict[str, Any]:
    listed = list(enterprises)
    visited = sum(1 for e in listed if e["visits"])
    return {
        "enterprises": len(listed),
        "visited": visited,
        "visited_share": round(visited / len(listed), 4) if listed else None,
    }


def _group(
    enterprises: list[dict[str, Any]],
    *,
    key: Callable[[dict[str, Any]], tuple],
    make: Callable[[tuple], dict[str, Any]],
    raised: dict[int, int],
    solved: dict[int, int],
) -> list[dict[str, Any]]:
    members: dict[tuple, list[dict[str, Any]]] = {}
    for e in enterprises:
        members.setdefault(key(e), []).append(e)
    return [
        {
            **make(k),
            **_counts(group),
            "problems_raised": sum(raised.get(e["id"], 0) for e in group),
            "problems_solved": sum(solved.get(e["id"], 0) for e in group),
        }
        for k, group in members.items()
    ]


def _officers(enterprises: list[dict[str, Any]], visits: list[dict[str, Any]]) -> list[dict]:
    """Per service officer: the enterprises they serve (visited by anyone counts: the
    enterprise was served), the visits they made and the problems raised in them."""
    served: dict[str | None, list[dict[str, Any]]] = {}
    for e in enterprises:
        served.setdefault(e["service_officer"], []).append(e)
    made: dict[str | None, list[dict[str, Any]]] = {}
    for v in visits:
        made.setdefault(v["officer"], []).append(v)
    officers = sorted(set(served) | set(made), key=lambda o: (o is None, o or ""))
    return [
        {
            "officer": officer,
            **_counts(served.get(officer, [])),
            "visits": len(made.get(officer, [])),
            "problems_raised": sum(v["raised"] for v in made.get(officer, [])),
            "problems_solved": sum(v["solved"] for v in made.get(officer, [])),
        }
        for officer in officers
    ]
