"""The test database: a real PostGIS, migrated by Alembic once per run, rolled back per test.

It runs on the same mechanism as the app: ONEGRID_DATABASE_URL's server when set, otherwise
the embedded cluster, always in databases of its own (onegrid_test, onegrid_test_demo).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from tests.helpers import STREET_OFFICE, FakeClock, SignedIn

from onegrid.db import engine as db_engine
from onegrid.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def _fresh_database(name: str) -> str:
    base = Settings()
    server_url = db_engine.resolve_database_url(base)
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    admin = db_engine.make_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    db_engine.ensure_database(url, log=lambda _: None)
    return url


@pytest.fixture(scope="session")
def database_url() -> str:
    return _fresh_database("onegrid_test")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = db_engine.make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[sa.Connection]:
    """One connection whose outer transaction is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: sa.Connection) -> sessionmaker[Session]:
    # Every "commit" inside the code under test releases a savepoint of the outer transaction.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, tile_url=None, upload_dir=tmp_path / "uploads")


@pytest.fixture
def clock() -> FakeClock:
    """The app's clock in tests: real time until a test sets or advances it."""
    return FakeClock()


@pytest.fixture
def client(
    settings: Settings, session_factory: sessionmaker[Session], clock: FakeClock
) -> Iterator[TestClient]:
    from onegrid.main import create_app

    app = create_app(settings, clock=clock)
    app.state.session_factory = session_factory
    with TestClient(app) as c:
        c.auth = SignedIn(c, STREET_OFFICE)
        yield c
    app.state.engine.dispose()


@pytest.fixture
def anonymous(client: TestClient) -> TestClient:
    """The same app, as someone who has not signed in."""
    client.auth = None
    return client


# --- a live server with the demo street, for browser tests -------------------------------------


# Accounts with known passwords on the demo street, for tests that sign in to the live server.
LIVE_ACCOUNTS = {
    "office": {
        "username": "test-office",
        "password": "office-pass-2026",
        "role": "street_admin",
        "display_name": "测试管理员",
    },
    # A grid worker of the first third-level grid; a separate account for the wrong-password
    # test, so failed sign-ins never lock the account the other tests use.
    "worker": {
        "username": "test-worker",
        "password": "worker-pass-2026",
        "role": "grid_worker",
        "display_name": "测试网格员",
    },
    # A resident: the map is not theirs, and the sign-in screen says so.
    "resident": {
        "username": "test-resident",
        "password": "resident-pass-2026",
        "role": "resident",
        "display_name": "测试居民",
    },
}


@pytest.fixture(scope="session")
def demo_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from datetime import UTC, datetime

    from onegrid.auth.service import create_user
    from onegrid.demo.load import load_demo_street

    url = _fresh_database("onegrid_test_demo")
    eng = db_engine.make_engine(url)
    load_demo_street(
        db_engine.session_factory(eng), tmp_path_factory.mktemp("demo"), progress=lambda _: None
    )
    with db_engine.session_factory(eng)() as session, session.begin():
        third = session.execute(
            sa.text(
                "SELECT code FROM grids WHERE level = 'third' AND valid_to IS NULL"
                " ORDER BY code LIMIT 1"
            )
        ).scalar_one()
        for account in LIVE_ACCOUNTS.values():
            create_user(
                session,
                **account,
                grid_code=third if account["role"] == "grid_worker" else None,
                by="test",
                now=datetime.now(UTC),
            )
    eng.dispose()
    return url


@pytest.fixture(scope="session")
def live_accounts(demo_database_url: str) -> dict[str, dict[str, str]]:
    """The demo street's test accounts ("office": street_admin, "worker": grid_worker,
    "resident"), each
    {username, password, role, display_name}, for signing in to `live_server_url`."""
    return LIVE_ACCOUNTS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server_url(demo_database_url: str) -> Iterator[str]:
    import uvicorn

    from onegrid.main import create_app, server_config

    app = create_app(Settings(database_url=demo_database_url))
    port = _free_port()
    # As `onegrid serve` runs it.
    server = uvicorn.Server(server_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the test server did not start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()
