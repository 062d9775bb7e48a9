"""Two people saving the same thing at the same moment: the second waits for the first and
succeeds (or is told why not), never a 500 from a unique index."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from onegrid.auth.actor import Actor
from onegrid.db import engine as db_engine
from onegrid.duties import service as duties_service
from onegrid.errors import Conflict
from onegrid.places import service as places_service

OFFICE = Actor(name="test-office", role="street_admin")


@pytest.fixture(scope="module")
def demo(demo_database_url: str) -> Iterator[sessionmaker[Session]]:
    """The demo street, whose rows are committed (two connections see them); what the tests
    change is put back."""
    engine = db_engine.make_engine(demo_database_url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def race(demo, first, second) -> dict[str, object]:
    """`first` runs and holds its transaction open for a moment; `second` starts meanwhile."""
    started = threading.Event()
    outcome: dict[str, object] = {}

    def run_first() -> None:
        with demo() as session, session.begin():
            outcome["first"] = first(session)
            started.set()
            time.sleep(0.5)

    def run_second() -> None:
        started.wait(10)
        try:
            with demo() as session, session.begin():
                outcome["second"] = second(session)
        except Exception as exc:  # what a request would have turned into a 500
            outcome["second"] = exc

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcome


def test_the_same_grids_set_twice_at_once_both_succeed(demo):
    with demo() as session:
        unit = session.scalar(sa.text("SELECT min(unit_code) FROM unit_grids"))
        before = session.scalars(
            sa.text("SELECT grid_code FROM unit_grids WHERE unit_code = :u ORDER BY 1"), {"u": unit}
        ).all()
        grids = session.scalars(
            sa.text("SELECT code FROM grids WHERE level = 'third' AND valid_to IS NULL LIMIT 2")
        ).all()

    def set_grids(session: Session) -> object:
        return duties_service.set_unit_grids(session, unit, list(grids), actor=OFFICE)

    try:
        outcome = race(demo, set_grids, set_grids)
        assert not isinstance(outcome["second"], Exception), outcome["second"]
        assert outcome["second"]["grid_codes"] == sorted(grids)
    finally:
        with demo() as session, session.begin():
            duties_service.set_unit_grids(session, unit, list(before), actor=OFFICE)


def test_two_places_taking_one_code_at_once_get_a_conflict_not_an_error(demo):
    with demo() as session:
        first, second = session.scalars(
            sa.text("SELECT id FROM places WHERE kind = 'building' ORDER BY id LIMIT 2")
        ).all()
        codes = dict(
            session.execute(
                sa.text("SELECT id, code FROM places WHERE id IN (:a, :b)"),
                {"a": first, "b": second},
            ).all()
        )
    now = datetime.now(UTC)

    def take(place_id: int):
        def edit(session: Session) -> object:
            return places_service.update_place(
                session, place_id, {"code": "RACE-1"}, actor=OFFICE, now=now
            )

        return edit

    try:
        outcome = race(demo, take(first), take(second))
        assert isinstance(outcome["second"], Conflict), outcome["second"]
        assert outcome["second"].field == "code"
    finally:
        with demo() as session, session.begin():
            for place_id, code in codes.items():
                session.execute(
                    sa.text("UPDATE places SET code = :c WHERE id = :id"),
                    {"c": code, "id": place_id},
                )
