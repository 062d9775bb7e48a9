"""The audit log: who did what to which account, when and from where; and who changed the
boundaries from the command line."""

from __future__ import annotations

import getpass
import socket
from datetime import datetime

import sqlalchemy as sa
from tests.auth.conftest import PASSWORD
from tests.helpers import Persona, bearer, write_grid_file
from tests.shared_data import geo_fault
from tests.test_cli import cli_database as cli_database  # noqa: F401 - fixture
from tests.test_cli import run as run  # noqa: F401 - fixture

from onegrid.db.engine import make_engine

AUDITOR = Persona("shenji", "auditor")


def entries(client, **params):
    r = client.get("/api/audit", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def last(client, action):
    found = entries(client, action=action, limit=1)
    assert found, f"no {action} entry"
    return found[0]


def test_account_changes_are_logged_with_who_when_what_and_from_where(client, street, clock):
    clock.set("2026-12-01T10:00:00+08:00")
    body = {"username": "wangfang", "password": PASSWORD, "role": "grid_worker"}
    assert client.post("/api/users", json={**body, "grid_code": "C1-01"}).status_code == 201
    created = last(client, "user_created")
    assert (created["actor"], created["target"], created["client"]) == (
        "office",
        "wangfang",
        "testclient",  # the TestClient's address, request.client.host
    )
    assert created["at"] == "2026-12-01T10:00:00+08:00"
    assert created["detail"]["role"] == "grid_worker"
    assert created["detail"]["grid_code"] == "C1-01"
    assert "password" not in str(created["detail"])

    client.patch("/api/users/wangfang", json={"role": "grid_leader", "grid_code": "C1-02"})
    changed = last(client, "user_scope_changed")
    assert changed["actor"] == "office" and changed["client"] == "testclient"
    assert changed["detail"] == {
        "role": {"before": "grid_worker", "after": "grid_leader"},
        "grid_code": {"before": "C1-01", "after": "C1-02"},
    }

    client.patch("/api/users/wangfang", json={"display_name": "王芳"})
    renamed = last(client, "user_renamed")
    assert renamed["detail"] == {"display_name": {"before": "wangfang", "after": "王芳"}}

    client.patch("/api/users/wangfang", json={"active": False})
    assert last(client, "user_disabled")["target"] == "wangfang"
    client.patch("/api/users/wangfang", json={"active": True})
    assert last(client, "user_enabled")["target"] == "wangfang"

    client.post("/api/users/wangfang/password", json={"password": "a brand new passphrase"})
    password_set = last(client, "password_set")
    assert (password_set["actor"], password_set["target"]) == ("office", "wangfang")
    assert password_set["client"] == "testclient"


def test_a_change_that_changes_nothing_is_not_logged(client, street):
    client.post(
        "/api/users",
        json={"username": "zhao", "password": PASSWORD, "role": "auditor", "display_name": "赵"},
    )
    before = entries(client)
    assert client.patch("/api/users/zhao", json={"display_name": "赵"}).status_code == 200
    assert entries(client) == before


def test_changing_one_s_own_password_is_logged_with_the_address(client, street):
    client.post("/api/users", json={"username": "zhao", "password": PASSWORD, "role": "auditor"})
    token = client.post("/api/auth/token", data={"username": "zhao", "password": PASSWORD}).json()[
        "access_token"
    ]
    auth = {"Authorization": f"Bearer {token}"}
    wrong = {"current_password": "not my password", "new_password": "my own new passphrase"}
    client.post("/api/auth/password", json=wrong, headers=auth)
    failed = last(client, "password_change_failed")
    assert (failed["actor"], failed["client"]) == ("zhao", "testclient")
    right = {"current_password": PASSWORD, "new_password": "my own new passphrase"}
    assert client.post("/api/auth/password", json=right, headers=auth).status_code == 200
    changed = last(client, "password_changed")
    assert (changed["actor"], changed["target"], changed["client"]) == (
        "zhao",
        "zhao",
        "testclient",
    )


def test_signing_out_and_a_reused_refresh_token_are_logged_with_the_address(client, street):
    client.post("/api/users", json={"username": "zhao", "password": PASSWORD, "role": "auditor"})
    sign_in = {"username": "zhao", "password": PASSWORD}
    first = client.post("/api/auth/token", data=sign_in).json()["refresh_token"]
    assert client.post("/api/auth/refresh", json={"refresh_token": first}).status_code == 200
    assert client.post("/api/auth/refresh", json={"refresh_token": first}).status_code == 401
    reused = last(client, "refresh_token_reused")
    assert (reused["actor"], reused["client"]) == ("zhao", "testclient")
    other = client.post("/api/auth/token", data=sign_in).json()["refresh_token"]
    assert client.post("/api/auth/revoke", json={"refresh_token": other}).status_code == 204
    revoked = last(client, "token_revoked")
    assert (revoked["actor"], revoked["client"]) == ("zhao", "testclient")


def test_entries_come_newest_first_and_filter_by_action_actor_and_time(client, street, clock):
    clock.set("2026-12-01T09:00:00+08:00")
    client.post("/api/users", json={"username": "a1", "password": PASSWORD, "role": "auditor"})
    clock.set("2026-12-02T09:00:00+08:00")
    client.post("/api/users", json={"username": "a2", "password": PASSWORD, "role": "auditor"})
    deputy = bearer(client, Persona("deputy", "street_admin"))
    client.post(
        "/api/users",
        json={"username": "a3", "password": PASSWORD, "role": "auditor"},
        headers=deputy,
    )
    created = entries(client, action="user_created")
    assert [e["target"] for e in created] == ["a3", "a2", "a1"]
    assert [e["target"] for e in entries(client, actor="deputy")] == ["a3"]
    since = entries(client, action="user_created", since="2026-12-02")
    assert [e["target"] for e in since] == ["a3", "a2"]
    later = entries(client, action="user_created", since="2026-12-02T08:59:59+08:00")
    assert len(later) == 2
    assert len(entries(client, action="user_created", limit=2)) == 2
    assert all(
        datetime.fromisoformat(e["at"]).utcoffset().total_seconds() == 8 * 3600 for e in created
    )


def test_the_auditor_reads_the_log_and_bad_filters_are_refused(client, street):
    client.post("/api/users", json={"username": "a1", "password": PASSWORD, "role": "auditor"})
    seen = client.get("/api/audit", headers=bearer(client, AUDITOR))
    assert seen.status_code == 200 and seen.json()[0]["action"] == "user_created"
    assert client.get("/api/audit", params={"limit": 1001}).status_code == 422
    assert client.get("/api/audit", params={"limit": 0}).status_code == 422
    r = client.get("/api/audit", params={"since": "yesterday"})
    assert r.status_code == 422 and r.json()["field"] == "since"


# --- the command line --------------------------------------------------------------------------


def audit_rows(url: str) -> list[dict]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_log ORDER BY id")).mappings().all()
    engine.dispose()
    return [dict(r) for r in rows]


def test_a_committed_grid_import_is_logged_and_a_dry_run_is_not(run, cli_database, tmp_path):
    path = write_grid_file(tmp_path / "abcd.geojson", geo_fault("B01")["input"]["grids"])
    assert run("import", "grids", str(path), "--level", "third").exit_code == 0
    assert audit_rows(cli_database) == []
    done = run("import", "grids", str(path), "--level", "third", "--commit")
    assert done.exit_code == 0, done.output
    (entry,) = audit_rows(cli_database)
    assert entry["action"] == "grids_imported"
    assert entry["actor"] == f"cli:{getpass.getuser()}"
    assert entry["client"] == f"host:{socket.gethostname()}"
    assert entry["target"] == "third"
    assert entry["detail"]["file"] == "abcd.geojson"
    assert entry["detail"]["accepted"] == entry["detail"]["written"] == 4
    assert entry["detail"]["rejected"] == 0


def test_account_commands_are_logged_as_the_os_user(run, cli_database):
    assert run("seed").exit_code == 0
    made = run(
        "users",
        "create",
        "zhao",
        "--role",
        "auditor",
        "--password-stdin",
        input="a long enough passphrase\n",
    )
    assert made.exit_code == 0, made.output
    assert (
        run(
            "users", "set-password", "zhao", "--password-stdin", input="another long passphrase\n"
        ).exit_code
        == 0
    )
    assert run("users", "disable", "zhao").exit_code == 0
    logged = [(e["action"], e["actor"], e["target"]) for e in audit_rows(cli_database)]
    me = f"cli:{getpass.getuser()}"
    assert logged == [
        ("user_created", me, "zhao"),
        ("password_set", me, "zhao"),
        ("user_disabled", me, "zhao"),
    ]


def test_the_command_line_applies_the_role_and_scope_rules(run):
    assert run("seed").exit_code == 0
    refused = run(
        "users",
        "create",
        "liqiang",
        "--role",
        "community_staff",
        "--password-stdin",
        input="a long enough passphrase\n",
    )
    assert refused.exit_code == 2 and "grid_code" in refused.output
