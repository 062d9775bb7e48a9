"""The demo street's registry beyond its places: red-property claims with their history,
enterprise visits (万人助万企) with the problems raised, the responsibility list (事项清单),
the staff of each grid and the grids each department serves.

Everything follows from the places, units and cases already loaded, and from `seed`, so a
reload gives the same street. Rows are written in bulk, as the demo's case histories are.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.cases.deadlines import TIME_ZONE
from onegrid.duties import service as duties_service

ITEMS_FILE = Path(__file__).with_name("responsibility_items.csv")
SERVICE_OFFICERS = ("李明", "王静", "赵国强", "陈晓燕", "刘志刚", "孙丽")
VISIT_TOPICS = (
    "生产经营情况及年度目标",
    "用工招聘需求",
    "惠企政策申报辅导",
    "融资需求对接",
    "办公场地续租问题",
    "周边交通与停车",
    "安全生产检查",
    "税收优惠政策宣讲",
)
# Problems raised in visits that the officer settles without a case.
LOOSE_PROBLEMS = (
    "希望协调办公楼周边停车位",
    "咨询高新技术企业认定政策",
    "反映园区网络信号弱",
    "希望对接高校招聘资源",
)
# Sunk departments (下沉) and the duty of their staff in the grids they serve.
SUNK_DEPARTMENTS = ("D02", "D04", "D09", "D12", "D14")
STAFF_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
STAFF_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红"
CLAIM_NOTES = ("党支部共建，承接楼院环境整治与日常保洁", "社区推荐，居民议事会表决同意")


def load_registry(
    session: Session, out_dir: Path, *, seed: int, year: int, by: str = "demo"
) -> dict[str, int]:
    """Claims, visits, the responsibility list (written to `out_dir` with the street's grid
    codes, then imported as a street's own list would be), grid staff and unit grids; their
    counts."""
    rng = np.random.default_rng([seed, year, 5])
    counts = {"courtyard_claims": _claims(session, rng, year, by)}
    counts.update(_visits(session, rng, year, by))
    counts["responsibility_items"] = _responsibility_items(session, out_dir)
    counts.update(_staff(session, rng))
    return counts


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TIME_ZONE)


def _claims(session: Session, rng: np.random.Generator, year: int, by: str) -> int:
    """An approved claim for each red-property courtyard (some after an earlier company
    left), pending claims on a few unmanaged ones, and one rejected."""
    red = session.execute(
        sa.text(
            "SELECT id, manager_unit_code FROM places WHERE kind = 'courtyard'"
            " AND management_status = 'red_property' AND manager_unit_code IS NOT NULL"
            " ORDER BY code"
        )
    ).all()
    unmanaged = session.scalars(
        sa.text(
            "SELECT id FROM places WHERE kind = 'courtyard' AND management_status = 'unmanaged'"
            " ORDER BY code"
        )
    ).all()
    companies = sorted({r.manager_unit_code for r in red}) or ["P05"]
    rows: list[dict[str, Any]] = []

    def claim(yard: int, company: str, status: str, claimed: date, **extra: Any) -> None:
        decided = claimed + timedelta(days=int(rng.integers(5, 20)))
        rows.append(
            {
                "courtyard_id": yard,
                "company_code": company,
                "status": status,
                "claimed_on": claimed,
                "requested_by": by,
                "requested_at": _at(claimed),
                "decided_by": None if status == "pending" else by,
                "decided_at": None if status == "pending" else _at(decided, 15),
                "note": CLAIM_NOTES[len(rows) % len(CLAIM_NOTES)],
                "ended_on": None,
                "ended_by": None,
                "end_reason": None,
                **extra,
            }
        )

    start = date(year - 1, 3, 1)
    for k, yard in enumerate(red):
        claimed = start + timedelta(days=int(rng.integers(0, 540)))
        if k % 4 == 1 and len(companies) > 1:  # another company held it first
            first = start - timedelta(days=int(rng.integers(200, 400)))
            other = companies[(companies.index(yard.manager_unit_code) + 1) % len(companies)]
            claim(
                yard.id,
                other,
                "ended",
                first,
                ended_on=claimed - timedelta(days=1),
                ended_by=by,
                end_reason="原物业服务合同到期，党支部改选后由新红色物业接管",
            )
        claim(yard.id, yard.manager_unit_code, "approved", claimed)
    last_month = date(year, 12, 1)
    for k, yard in enumerate(unmanaged[:3]):
        company = companies[k % len(companies)]
        claim(yard, company, "pending", last_month + timedelta(days=int(rng.integers(0, 20))))
    if len(unmanaged) > 3:
        claim(
            unmanaged[3],
            companies[0],
            "rejected",
            date(year, 6, 10),
            decision_note="楼院产权存在争议，待确权后再认领",
        )
    if rows:
        columns = list(rows[0])
        session.execute(
            sa.text(
                f"INSERT INTO courtyard_claims ({', '.join(columns)})"
                f" VALUES ({', '.join(':' + c for c in columns)})"
            ),
            rows,
        )
    return len(rows)


def _visits(session: Session, rng: np.random.Generator, year: int, by: str) -> dict[str, int]:
    """Service officers for the enterprises; visits each quarter (nearly every key enterprise,
    about half of the others); each enterprise-service case of the year raised in a visit
    to the nearest enterprise on the day it was reported, and a few problems settled without
    a case."""
    enterprises = session.execute(
        sa.text(
            "SELECT id, key_tax_source OR above_scale AS key FROM places"
            " WHERE kind = 'enterprise' ORDER BY code"
        )
    ).all()
    officer = {e.id: SERVICE_OFFICERS[k % len(SERVICE_OFFICERS)] for k, e in enumerate(enterprises)}
    session.execute(
        sa.text("UPDATE places SET service_officer = :officer WHERE id = :id"),
        [{"id": i, "officer": name} for i, name in officer.items()],
    )
    visits: list[dict[str, Any]] = []
    problems: list[tuple[int, str, str | None, int | None]] = []  # visit index, ...

    def visit(enterprise: int, day: date, topic: str) -> int:
        visits.append(
            {
                "enterprise_id": enterprise,
                "visited_on": day,
                "officer": officer[enterprise],
                "discussed": topic,
                "recorded_by": by,
                "recorded_at": _at(day, 17),
            }
        )
        return len(visits) - 1

    for quarter in range(4):
        first = date(year, 3 * quarter + 1, 1)
        for e in enterprises:
            if rng.random() < (0.97 if e.key else 0.5):
                day = first + timedelta(days=int(rng.integers(0, 88)))
                k = visit(e.id, day, VISIT_TOPICS[int(rng.integers(len(VISIT_TOPICS)))])
                if rng.random() < 0.04:
                    loose = LOOSE_PROBLEMS[int(rng.integers(len(LOOSE_PROBLEMS)))]
                    problems.append((k, loose, None, None))
    raised = session.execute(
        sa.text(
            """
            SELECT c.id, c.description, c.category_code, c.reported_at, e.id AS enterprise
            FROM cases c
            CROSS JOIN LATERAL (
                SELECT p.id FROM places p WHERE p.kind = 'enterprise'
                ORDER BY p.geom <-> c.geom LIMIT 1) e
            WHERE c.source = 'enterprise_service'
            ORDER BY c.id
            """
        )
    ).all()
    for case in raised:
        day = case.reported_at.astimezone(TIME_ZONE).date()
        k = visit(case.enterprise, day, "企业反映问题现场走访")
        problems.append((k, case.description or "企业反映问题", case.category_code, case.id))
    if not visits:
        return {"enterprise_visits": 0, "visit_problems": 0}
    columns = list(visits[0])
    insert = sa.text(
        f"INSERT INTO enterprise_visits ({', '.join(columns)})"
        f" VALUES ({', '.join(':' + c for c in columns)}) RETURNING id"
    )
    visit_ids = [session.execute(insert, v).scalar_one() for v in visits]
    if problems:
        session.execute(
            sa.text(
                "INSERT INTO visit_problems (visit_id, description, category_code, case_id)"
                " VALUES (:visit, :description, :category, :case)"
            ),
            [
                {"visit": visit_ids[k], "description": d, "category": c, "case": case}
                for k, d, c, case in problems
            ],
        )
    return {"enterprise_visits": len(visits), "visit_problems": len(problems)}


def _responsibility_items(session: Session, out_dir: Path) -> int:
    """The demo list: grid items on the street grid (they apply to every grid under it),
    community items on each community, street and department items on their units."""
    street = session.scalar(
        sa.text("SELECT code FROM grids WHERE level = 'street' AND valid_to IS NULL")
    )
    communities = session.scalars(
        sa.text("SELECT code FROM grids WHERE level = 'second' AND valid_to IS NULL ORDER BY code")
    ).all()
    text = ITEMS_FILE.read_text(encoding="utf-8")
    text = text.replace("{street}", street or "").replace("{communities}", ";".join(communities))
    path = out_dir / ITEMS_FILE.name
    path.write_text(text, encoding="utf-8")
    report = duties_service.import_items(session, path)
    if report.rejected:
        first = report.rejected[0]
        raise RuntimeError(f"demo responsibility list: line {first.index}: {first.reason}")
    return report.accepted


def _person(rng: np.random.Generator) -> str:
    surname = STAFF_SURNAMES[int(rng.integers(len(STAFF_SURNAMES)))]
    given = "".join(STAFF_GIVEN[int(i)] for i in rng.integers(len(STAFF_GIVEN), size=2))
    return surname + given[: int(rng.integers(1, 3))]


def _phone(rng: np.random.Generator) -> str:
    return (
        "1"
        + str(int(rng.choice([35, 36, 37, 38, 39, 58, 59, 86, 87])))
        + "".join(str(int(d)) for d in rng.integers(10, size=8))
    )


def _staff(session: Session, rng: np.random.Generator) -> dict[str, int]:
    """Each third-level grid: its leader (as the grid names them), one or two full-time and
    one part-time worker; each community: its police officer and grid instructor; the sunk
    departments, each serving the third-level grids of some communities with one person."""
    thirds = session.execute(
        sa.text(
            "SELECT g.code, g.leader, p.code AS community FROM grids g"
            " JOIN grids p ON p.id = g.parent_id"
            " WHERE g.level = 'third' AND g.valid_to IS NULL ORDER BY g.code"
        )
    ).all()
    communities = sorted({t.community for t in thirds})
    staff: list[dict[str, Any]] = []

    def add(grid: str, duty: str, name: str, unit: str | None = None) -> None:
        staff.append(
            {
                "grid_code": grid,
                "name": name,
                "duty": duty,
                "unit_code": unit,
                "phone": _phone(rng),
                "username": None,
                "active": True,
            }
        )

    for t in thirds:
        add(t.code, "grid_leader", t.leader or _person(rng))
        for _ in range(int(rng.integers(1, 3))):
            add(t.code, "full_time_worker", _person(rng))
        add(t.code, "part_time_worker", _person(rng))
    for community in communities:
        add(community, "police", _person(rng))
        add(community, "instructor", _person(rng))
    served: list[dict[str, str]] = []
    for k, unit in enumerate(SUNK_DEPARTMENTS):
        mine = communities[k % len(communities) :: 2] if communities else []
        for t in thirds:
            if t.community in mine:
                add(t.code, "sunk_staff", _person(rng), unit)
                served.append({"unit_code": unit, "grid_code": t.code})
    if staff:
        columns = list(staff[0])
        session.execute(
            sa.text(
                f"INSERT INTO grid_staff ({', '.join(columns)})"
                f" VALUES ({', '.join(':' + c for c in columns)})"
            ),
            staff,
        )
    if served:
        session.execute(
            sa.text(
                "INSERT INTO unit_grids (unit_code, grid_code) VALUES (:unit_code, :grid_code)"
            ),
            served,
        )
    return {"grid_staff": len(staff), "unit_grids": len(served)}
