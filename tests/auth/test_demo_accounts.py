"""The demo's accounts: one per role, scoped to the demo's own data, each with a fresh random
password shown once and kept in a file only its owner can read."""

from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa

from onegrid.auth import service as auth_service
from onegrid.auth.actor import ROLES
from onegrid.demo import load
from onegrid.demo.load import accounts_table, create_demo_accounts, publish_demo_accounts
from onegrid.settings import PROJECT_ROOT

IN_C1_02 = (113.605, 34.775)
GARBAGE = "01001"


@pytest.fixture
def accounts(session, street, clock):
    return create_demo_accounts(session, by="cli:test", now=clock())


def sign_in(client, username, password):
    return client.post("/api/auth/token", data={"username": username, "password": password})


def test_there_is_one_account_per_role_scoped_to_the_street_s_own_data(session, accounts):
    assert sorted(a.role for a in accounts) == sorted(ROLES)
    users = {u["username"]: u for u in auth_service.list_users(session)}
    scope = {
        a.role: (users[a.username]["unit_code"], users[a.username]["grid_code"]) for a in accounts
    }
    # The community of the grid whose leader and worker are given, a department, a company.
    assert scope["community_staff"] == (None, "C1")
    assert scope["grid_leader"] == scope["grid_worker"] == (None, "C1-01")
    assert scope["department_handler"] == ("D01", None)
    assert scope["property_staff"] == ("P01", None)
    for role in ("street_admin", "street_dispatcher", "gis_editor", "auditor", "resident"):
        assert scope[role] == (None, None)
    community = next(a for a in accounts if a.role == "community_staff")
    assert "C1" in community.scope and "grid C1" in community.scope


def test_each_password_is_random_and_signs_in(client, accounts):
    passwords = [a.password for a in accounts]
    assert len(set(passwords)) == len(passwords)
    assert all(len(p) >= 16 for p in passwords)
    for a in accounts:
        r = sign_in(client, a.username, a.password)
        assert r.status_code == 200, (a.username, r.text)


def test_loading_again_gives_new_passwords_and_the_accounts_their_scope_back(
    client, session, accounts, clock
):
    worker = next(a for a in accounts if a.role == "grid_worker")
    client.patch(f"/api/users/{worker.username}", json={"grid_code": "C1-02"})
    client.patch(f"/api/users/{worker.username}", json={"active": False})
    clock.advance(seconds=2)
    again = create_demo_accounts(session, by="cli:test", now=clock())
    assert [a.username for a in again] == [a.username for a in accounts]
    assert not {a.password for a in again} & {a.password for a in accounts}
    assert sign_in(client, worker.username, worker.password).status_code == 401
    renewed = next(a for a in again if a.role == "grid_worker")
    assert sign_in(client, renewed.username, renewed.password).status_code == 200
    user = next(u for u in auth_service.list_users(session) if u["username"] == worker.username)
    assert user["grid_code"] == "C1-01" and user["active"]


def test_the_accounts_work_where_the_demo_s_cases_are(client, session, street, clock):
    for _ in range(2):
        r = client.post(
            "/api/cases",
            json={"lon": IN_C1_02[0], "lat": IN_C1_02[1], "category_code": GARBAGE},
        )
        assert r.status_code == 201, r.text
    session.execute(sa.text("UPDATE cases SET unit_code = 'D05'"))
    accounts = {a.role: a for a in create_demo_accounts(session, by="t", now=clock())}
    assert "C1-02" in accounts["grid_leader"].scope
    assert "D05" in accounts["department_handler"].scope


def test_the_table_shows_username_role_in_chinese_scope_and_password(accounts):
    table = accounts_table(accounts)
    lines = table.splitlines()
    assert len(lines) == 1 + len(ROLES)
    for a in accounts:
        line = next(x for x in lines if x.startswith(a.username + " "))
        assert ROLES[a.role] in line and a.scope in line and line.endswith(a.password)
    # Aligned on a terminal, where a Chinese character takes two columns: every password
    # starts in the same column.
    width = load._columns
    starts = {
        width(x[: x.rindex(a.password)]) for a in accounts for x in lines if a.username in x.split()
    }
    assert len(starts) == 1


def test_the_accounts_are_printed_once_and_written_for_the_owner_only(accounts, tmp_path):
    path = tmp_path / "var" / "demo-accounts.txt"
    shown: list[str] = []
    publish_demo_accounts(accounts, path, shown.append)
    assert len(shown) == 1 and accounts_table(accounts) in shown[0] and str(path) in shown[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert accounts_table(accounts) in path.read_text(encoding="utf-8")


def test_an_older_readable_file_is_narrowed_to_its_owner(accounts, tmp_path):
    path = tmp_path / "demo-accounts.txt"
    path.write_text("old")
    path.chmod(0o644)
    publish_demo_accounts(accounts, path, lambda _: None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "old" not in path.read_text(encoding="utf-8")


def test_the_command_writes_them_under_var_in_the_project(accounts):
    assert load.ACCOUNTS_FILE == PROJECT_ROOT / "var" / "demo-accounts.txt"


def test_a_street_already_loaded_says_where_its_accounts_are(session_factory, street, tmp_path):
    path = tmp_path / "demo-accounts.txt"
    said: list[str] = []
    assert (
        load.load_demo_street(session_factory, tmp_path, progress=said.append, accounts_file=path)
        == {}
    )
    assert "onegrid demo --reset" in said[-1]
    path.write_text("table")
    said.clear()
    load.load_demo_street(session_factory, tmp_path, progress=said.append, accounts_file=path)
    assert said[-1] == f"its accounts and passwords are in {path}"
