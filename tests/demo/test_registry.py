"""The demo street's registry: claims with their history, quarterly enterprise visits with
the enterprise-service cases raised in them, the responsibility list and the grid staff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from onegrid.db import engine as db_engine


@pytest.fixture(scope="module")
def demo(demo_database_url: str) -> Iterator[sa.Connection]:
    engine: Engine = db_engine.make_engine(demo_database_url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def rows(conn: sa.Connection, sql: str) -> list[sa.Row]:
    return list(conn.execute(sa.text(sql)))


def test_each_red_property_courtyard_has_one_approved_claim_by_its_company(demo):
    courtyards = rows(
        demo,
        "SELECT p.id, p.management_status, p.manager_unit_code,"
        " array_agg(c.status ORDER BY c.claimed_on) FILTER (WHERE c.id IS NOT NULL) AS statuses,"
        " max(c.company_code) FILTER (WHERE c.status = 'approved') AS approved_company"
        " FROM places p LEFT JOIN courtyard_claims c ON c.courtyard_id = p.id"
        " WHERE p.kind = 'courtyard' GROUP BY p.id",
    )
    red = [c for c in courtyards if c.management_status == "red_property"]
    assert red, "the demo has red-property courtyards"
    for c in red:
        assert c.statuses.count("approved") == 1 and c.approved_company == c.manager_unit_code
    assert any("ended" in c.statuses for c in red)  # a company that left, then the current one
    for c in courtyards:
        if c.statuses and "pending" in c.statuses:
            assert c.management_status == "unmanaged"
    ended = rows(
        demo,
        "SELECT e.ended_on, a.claimed_on FROM courtyard_claims e JOIN courtyard_claims a"
        " ON a.courtyard_id = e.courtyard_id AND a.status = 'approved' WHERE e.status = 'ended'",
    )
    assert ended and all(e.ended_on < e.claimed_on for e in ended)


def test_key_enterprises_are_visited_nearly_every_quarter_by_their_officer(demo):
    year = demo.execute(
        sa.text("SELECT max(extract(year FROM visited_on)) FROM enterprise_visits")
    ).scalar_one()
    enterprises = rows(
        demo,
        "SELECT id, service_officer, key_tax_source OR above_scale AS key FROM places"
        " WHERE kind = 'enterprise'",
    )
    assert enterprises and all(e.service_officer for e in enterprises)
    officer = {e.id: e.service_officer for e in enterprises}
    visits = rows(demo, "SELECT enterprise_id, visited_on, officer FROM enterprise_visits")
    assert all(v.officer == officer[v.enterprise_id] for v in visits)
    key = {e.id for e in enterprises if e.key}
    for quarter in range(4):
        first, last = date(int(year), 3 * quarter + 1, 1), date(int(year), 3 * quarter + 3, 28)
        seen = {v.enterprise_id for v in visits if first <= v.visited_on <= last}
        assert len(seen & key) >= 0.85 * len(key), quarter
        assert len(seen - key) < len(set(officer) - key)  # not every other firm, every quarter


def test_every_enterprise_service_case_was_raised_in_a_visit_on_its_day(demo):
    linked = rows(
        demo,
        "SELECT c.id, (c.reported_at AT TIME ZONE 'Asia/Shanghai')::date AS day, v.visited_on"
        " FROM cases c LEFT JOIN visit_problems q ON q.case_id = c.id"
        " LEFT JOIN enterprise_visits v ON v.id = q.visit_id"
        " WHERE c.source = 'enterprise_service'",
    )
    assert linked
    assert all(r.visited_on == r.day for r in linked)
    loose = demo.execute(
        sa.text("SELECT count(*) FROM visit_problems WHERE case_id IS NULL")
    ).scalar_one()
    assert loose > 0  # some problems were settled without a case


def test_the_responsibility_list_hangs_on_the_street_communities_and_units(demo):
    attached = rows(
        demo,
        "SELECT i.responsible_level, a.grid_code, a.unit_code, g.level FROM responsibility_items i"
        " JOIN responsibility_assignments a ON a.item_id = i.id"
        " LEFT JOIN grids g ON g.code = a.grid_code AND g.valid_to IS NULL",
    )
    by_level = {}
    for r in attached:
        by_level.setdefault(r.responsible_level, set()).add(r.level or "unit")
    assert by_level == {
        "grid": {"street"},
        "community": {"second"},
        "street": {"unit"},
        "department": {"unit"},
    }


def test_every_third_level_grid_has_its_leader_and_workers_and_sunk_staff_match_unit_grids(demo):
    per_grid = rows(
        demo,
        "SELECT g.code, g.leader,"
        " array_agg(s.name) FILTER (WHERE s.duty = 'grid_leader') AS leaders,"
        " count(*) FILTER (WHERE s.duty = 'full_time_worker') AS workers"
        " FROM grids g LEFT JOIN grid_staff s ON s.grid_code = g.code"
        " WHERE g.level = 'third' AND g.valid_to IS NULL GROUP BY g.code, g.leader",
    )
    assert per_grid
    for g in per_grid:
        assert g.leaders == [g.leader] and g.workers >= 1, g.code
    sunk = {
        (r.unit_code, r.grid_code)
        for r in rows(demo, "SELECT unit_code, grid_code FROM grid_staff WHERE duty = 'sunk_staff'")
    }
    served = {(r.unit_code, r.grid_code) for r in rows(demo, "SELECT * FROM unit_grids")}
    assert sunk == served and sunk
