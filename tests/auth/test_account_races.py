"""Account changes racing each other on two connections: two administrators demoting each
other (one stays), a refresh racing a password change (no deadlock, the old token ends);
a burst of sign-ins checks passwords a few at a time."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from tests.auth.conftest import PASSWORD
from tests.conftest import _fresh_database

from onegrid.auth import repository as repo
from onegrid.auth import service
from onegrid.cases.deadlines import TIME_ZONE
from onegrid.db import engine as db_engine
from onegrid.errors import Conflict, NotAuthenticated
from onegrid.settings import Settings


@pytest.fixture(scope="module")
def committed_url():
    """A database of its own whose data is committed, so two connections both see it."""
    return _fresh_database("onegrid_test_auth_race")


@pytest.fixture(scope="module")
def committed(committed_url):
    engine = db_engine.make_engine(committed_url)
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


def test_a_refresh_racing_a_password_change_waits_for_it_and_is_refused(committed):
    """The password change holds the user's row when the refresh comes: the refresh waits
    (it takes the user's row before the token's, as the change does) and then finds its
    token revoked. Taken the other way round the two transactions deadlock and one fails."""
    now = datetime.now(TIME_ZONE)
    settings = Settings(database_url="unused")
    with committed() as session, session.begin():
        service.create_user(
            session, username="racer", password=PASSWORD, role="auditor", by="t", now=now
        )
        tokens = service.sign_in(
            session, "racer", PASSWORD, now=now, client=None, settings=settings
        )
    assert isinstance(tokens, service.Tokens)
    change_holds_user = threading.Event()
    outcome: dict[str, object] = {}

    def administrator_sets_password() -> None:
        try:
            with committed() as session, session.begin():
                repo.get_user(session, "racer", lock=True)
                change_holds_user.set()
                time.sleep(0.5)  # the refresh arrives while the user's row is held
                service.set_password(session, "racer", "a new password 42", by="t", now=now)
            outcome["change"] = "done"
        except Exception as exc:  # a deadlock would surface here or in the refresh
            outcome["change"] = exc

    def user_refreshes() -> None:
        change_holds_user.wait(10)
        try:
            with committed() as session, session.begin():
                outcome["refresh"] = service.refresh(
                    session, tokens.refresh_token, now=now, settings=settings
                )
        except Exception as exc:
            outcome["refresh"] = exc

    threads = [
        threading.Thread(target=administrator_sets_password),
        threading.Thread(target=user_refreshes),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert outcome["change"] == "done"
    assert isinstance(outcome["refresh"], NotAuthenticated), outcome["refresh"]


@pytest.mark.parametrize("queue", [16, 2])
def test_a_burst_of_sign_ins_checks_passwords_a_few_at_a_time(committed_url, monkeypatch, queue):
    """Each check takes 64 MiB (argon2id): thirty at once took 1.8 GB. Past a short queue
    the answer is 429 at once, not a wait behind every other attempt."""
    from fastapi.testclient import TestClient

    from onegrid.auth import security
    from onegrid.main import create_app

    running, most = 0, 0
    count = threading.Lock()
    real_verify = security.verify_password

    def counted_verify(password_hash: str, password: str) -> bool:
        nonlocal running, most
        with count:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.1)
            return real_verify(password_hash, password)
        finally:
            with count:
                running -= 1

    monkeypatch.setattr(security, "verify_password", counted_verify)
    settings = Settings(
        database_url=committed_url,
        tile_url=None,
        sign_ins_per_minute=1000,
        password_checks_queue=queue,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        answers: list[int] = []

        def try_sign_in(i: int) -> None:
            form = {"username": f"nobody-{i}", "password": "not the password"}
            answers.append(client.post("/api/auth/token", data=form).status_code)

        threads = [threading.Thread(target=try_sign_in, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    app.state.engine.dispose()
    assert most == settings.password_checks_at_once == 2
    if queue >= 6:  # room for everyone: each waits its turn and is refused on the merits
        assert answers == [401] * 8
    else:  # two checked, two waiting: the rest told at once to come back (a late starter
        # may find a place free again, so at least four are checked)
        assert set(answers) == {401, 429} and answers.count(401) >= 4, answers
