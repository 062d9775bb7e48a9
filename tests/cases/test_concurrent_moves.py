"""Two people moving the same case at once: one wins, the other gets a conflict."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy.orm import sessionmaker
from tests.cases.test_workflow_api import IN_WEST, STREET, WEST
from tests.conftest import _fresh_database
from tests.helpers import load_grids

from onegrid.auth.actor import Actor
from onegrid.auth.scope import EVERYTHING
from onegrid.cases import service
from onegrid.cases.deadlines import TIME_ZONE, WorkCalendar
from onegrid.db import engine as db_engine
from onegrid.errors import StaleVersion
from onegrid.settings import Settings
from onegrid.units import service as units_service

STAFF = Actor("liqiang", "community_staff", grid_code="C1")
OTHER_STAFF = Actor("zhangwei", "community_staff", grid_code="C1")


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """A database of its own whose data is committed, so two connections both see it."""
    url = _fresh_database("onegrid_test_concurrency")
    engine = db_engine.make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    tmp = tmp_path_factory.mktemp("grids")
    with factory() as session, session.begin():
        units_service.load_seed(session)
        load_grids(session, tmp, "street", {"S": STREET})
        load_grids(session, tmp, "second", {"C1": WEST})
    yield factory
    engine.dispose()


def test_the_second_of_two_simultaneous_moves_gets_a_conflict_not_an_overwrite(committed):
    settings = Settings(tile_url=None)
    calendar = WorkCalendar.load()
    now = datetime.now(TIME_ZONE)
    with committed() as session, session.begin():
        case, _ = service.create_case(
            session,
            {"lon": IN_WEST[0], "lat": IN_WEST[1], "description": "并发"},
            now=now,
            calendar=calendar,
            settings=settings,
        )
    seen = case["version"]  # both people loaded the case at this version

    first_applied = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with committed() as session, session.begin():
            service.transition_case(
                session,
                case["id"],
                "screen",
                {"version": seen},
                actor=STAFF,
                now=now,
                calendar=calendar,
                settings=settings,
            )
            first_applied.set()
            # Hold the transaction open while the second person acts.
            second_thread.join(timeout=0.5)
        outcome["first"] = "committed"

    def second() -> None:
        first_applied.wait(timeout=10)
        try:
            with committed() as session, session.begin():
                service.transition_case(
                    session,
                    case["id"],
                    "return",
                    {"version": seen, "reason": "信息不全"},
                    actor=OTHER_STAFF,
                    now=now,
                    calendar=calendar,
                    settings=settings,
                )
            outcome["second"] = "committed"
        except StaleVersion as exc:
            outcome["second"] = exc

    second_thread = threading.Thread(target=second)
    first_thread = threading.Thread(target=first)
    first_thread.start()
    second_thread.start()
    first_thread.join(timeout=20)
    second_thread.join(timeout=20)

    assert outcome["first"] == "committed"
    assert isinstance(outcome["second"], StaleVersion)
    with committed() as session:
        stored = service.view_case(
            session, case["id"], calendar=calendar, now=now, scope=EVERYTHING
        )
        history = service.case_history(session, case["id"], scope=EVERYTHING)
    assert stored["status"] == "screened" and stored["version"] == seen + 1
    assert [e["action"] for e in history] == ["report", "screen"]
