"""Two street administrators demoting each other at the same moment: one of them stays."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from tests.auth.conftest import PASSWORD
from tests.conftest import _fresh_database

from onegrid.auth import service
from onegrid.cases.deadlines import TIME_ZONE
from onegrid.db import engine as db_engine
from onegrid.errors import Conflict


@pytest.fixture(scope="module")
def committed():
    """A database of its own whose data is committed, so two connections both see it."""
    engine = db_engine.make_engine(_fresh_database("onegrid_test_auth_race"))
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    yield factory
    engine.dispose()


def test_two_administrators_cannot_demote_each_other_at_once(committed):
    now = datetime.now(TIME_ZONE)
    with committed() as session, session.begin():
        for name in ("admin-a", "admin-b"):
            service.create_user(
                session, username=name, password=PASSWORD, role="street_admin", by="t", now=now
            )
    first_counted = threading.Event()
    outcome: dict[str, object] = {}

    def a_demotes_b() -> None:
        with committed() as session, session.begin():
            service.change_user(session, "admin-b", {"role": "auditor"}, by="admin-a", now=now)
            first_counted.set()
            time.sleep(0.5)  # the other demotion counts while this one is not yet committed
        outcome["a"] = "done"

    def b_demotes_a() -> None:
        first_counted.wait(10)
        try:
            with committed() as session, session.begin():
                service.change_user(session, "admin-a", {"role": "auditor"}, by="admin-b", now=now)
            outcome["b"] = "done"
        except Conflict as exc:
            outcome["b"] = exc

    threads = [threading.Thread(target=a_demotes_b), threading.Thread(target=b_demotes_a)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert outcome["a"] == "done"
    assert isinstance(outcome["b"], Conflict)
    with committed() as session:
        admins = session.execute(
            sa.text("SELECT username FROM users WHERE role = 'street_admin' AND active")
        ).scalars()
        assert list(admins) == ["admin-a"]
