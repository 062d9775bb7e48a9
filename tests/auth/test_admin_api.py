"""The account administration API: who may list, create and change accounts, and what a
change does to the tokens already handed out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.auth.conftest import PASSWORD
from tests.helpers import Persona, bearer

from onegrid.auth import service
from onegrid.auth.actor import ROLES
from onegrid.errors import Conflict

AUDITOR = Persona("shenji", "auditor")
COMMUNITY_C1 = Persona("sq1-staff", "community_staff", grid="C1")
LEADER_C1_01 = Persona("c1-01-leader", "grid_leader", grid="C1-01")
WORKER_C1_01 = Persona("c1-01-worker", "grid_worker", grid="C1-01")
WORKER_C1_02 = Persona("c1-02-worker", "grid_worker", grid="C1-02")
LEADER_C2_01 = Persona("c2-01-leader", "grid_leader", grid="C2-01")
HANDLER = Persona("d01-handler", "department_handler", unit="D01")
EVERYONE = [AUDITOR, COMMUNITY_C1, LEADER_C1_01, WORKER_C1_01, WORKER_C1_02, LEADER_C2_01, HANDLER]

# Each role that is not the street administrator, with a scope it may hold.
NOT_ADMIN = {
    "street_dispatcher": Persona("p-dispatch", "street_dispatcher"),
    "community_staff": COMMUNITY_C1,
    "grid_leader": LEADER_C1_01,
    "grid_worker": WORKER_C1_01,
    "department_handler": HANDLER,
    "property_staff": Persona("p-property", "property_staff", unit="P01"),
    "gis_editor": Persona("p-gis", "gis_editor"),
    "auditor": AUDITOR,
    "resident": Persona("p-resident", "resident"),
}
assert set(NOT_ADMIN) == set(ROLES) - {"street_admin"}


@pytest.fixture
def staff(client, street):
    """Every persona above has an account (made by signing them in once)."""
    for persona in EVERYONE:
        bearer(client, persona)


def sign_in(client, username, password=PASSWORD):
    r = client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def create(client, username, role, **scope):
    r = client.post(
        "/api/users", json={"username": username, "password": PASSWORD, "role": role, **scope}
    )
    assert r.status_code == 201, r.text
    return r.json()


def names(answer) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {u["username"] for u in answer.json()}


def test_the_street_administrator_and_the_auditor_see_every_account(client, staff):
    everyone = {p.name for p in EVERYONE} | {"office"}
    assert names(client.get("/api/users")) == everyone
    assert names(client.get("/api/users", headers=bearer(client, AUDITOR))) == everyone


def test_a_grid_leader_sees_only_the_accounts_in_their_grid(client, staff):
    seen = names(client.get("/api/users", headers=bearer(client, LEADER_C1_01)))
    assert seen == {"c1-01-leader", "c1-01-worker"}


def test_community_staff_see_the_accounts_of_their_community_s_grids(client, staff):
    seen = names(client.get("/api/users", headers=bearer(client, COMMUNITY_C1)))
    assert seen == {"sq1-staff", "c1-01-leader", "c1-01-worker", "c1-02-worker"}


@pytest.mark.parametrize(
    "role",
    [
        "street_dispatcher",
        "grid_worker",
        "department_handler",
        "property_staff",
        "gis_editor",
        "resident",
    ],
)
def test_other_roles_may_not_list_accounts(client, street, role):
    r = client.get("/api/users", headers=bearer(client, NOT_ADMIN[role]))
    assert r.status_code == 403 and r.json()["error"] == "Forbidden"


def test_nobody_but_the_administrator_sees_sign_in_internals(client, staff):
    admin_view = client.get("/api/users").json()[0]
    assert "failed_logins" in admin_view and "locked_until" in admin_view
    for persona in (AUDITOR, LEADER_C1_01, COMMUNITY_C1):
        for user in client.get("/api/users", headers=bearer(client, persona)).json():
            assert not {"password_hash", "failed_logins", "locked_until"} & set(user)
    auditor_view = client.get("/api/users", headers=bearer(client, AUDITOR)).json()[0]
    assert {"active", "locked"} <= set(auditor_view)
    leader_view = client.get("/api/users", headers=bearer(client, LEADER_C1_01)).json()[0]
    assert set(leader_view) == {
        "username",
        "display_name",
        "role",
        "unit_code",
        "grid_code",
        "active",
    }
    assert "password_hash" not in admin_view


@pytest.mark.parametrize("role", sorted(NOT_ADMIN))
def test_only_the_street_administrator_creates_changes_and_sets_passwords(client, street, role):
    auth = bearer(client, NOT_ADMIN[role])
    body = {"username": "newbie", "password": PASSWORD, "role": "auditor"}
    assert client.post("/api/users", json=body, headers=auth).status_code == 403
    assert (
        client.patch("/api/users/office", json={"active": False}, headers=auth).status_code == 403
    )
    r = client.post("/api/users/office/password", json={"password": PASSWORD}, headers=auth)
    assert r.status_code == 403
    office = [u for u in client.get("/api/users").json() if u["username"] == "office"]
    assert office[0]["active"] is True  # nothing happened


@pytest.mark.parametrize("role", sorted(set(NOT_ADMIN) - {"auditor"}))
def test_only_the_administrator_and_the_auditor_read_the_audit_log(client, street, role):
    assert client.get("/api/audit", headers=bearer(client, NOT_ADMIN[role])).status_code == 403
    assert client.get("/api/audit", headers=bearer(client, AUDITOR)).status_code == 200
    assert client.get("/api/audit").status_code == 200


def test_without_a_token_every_account_endpoint_is_401(anonymous):
    for method, url in [
        ("GET", "/api/users"),
        ("POST", "/api/users"),
        ("PATCH", "/api/users/office"),
        ("POST", "/api/users/office/password"),
        ("POST", "/api/auth/password"),
        ("GET", "/api/audit"),
    ]:
        assert anonymous.request(method, url, json={}).status_code == 401, (method, url)


def test_an_administrator_creates_an_account_that_signs_in(client, street):
    user = create(client, "Wang.Fang", "grid_worker", grid_code="C1-01", display_name="王芳")
    assert user["username"] == "wang.fang" and user["display_name"] == "王芳"
    assert "password_hash" not in user
    assert user["created_at"].endswith("+08:00")
    tokens = sign_in(client, "wang.fang")
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["grid_code"] == "C1-01" and me.json()["display_name"] == "王芳"
    again = client.post(
        "/api/users", json={"username": "wang.fang", "password": PASSWORD, "role": "auditor"}
    )
    assert again.status_code == 409 and again.json()["field"] == "username"


def test_an_unknown_user_is_404(client, street):
    assert client.patch("/api/users/nobody", json={"display_name": "x"}).status_code == 404
    r = client.post("/api/users/nobody/password", json={"password": PASSWORD})
    assert r.status_code == 404 and r.json()["field"] == "username"


def test_unknown_or_null_fields_are_refused(client, street):
    create(client, "zhao", "auditor")
    r = client.patch("/api/users/zhao", json={"password_hash": "x"})
    assert r.status_code == 422
    r = client.patch("/api/users/zhao", json={"role": None})
    assert r.status_code == 422 and r.json()["field"] == "role"
    r = client.patch("/api/users/zhao", json={"active": "no"})  # not read as a yes
    assert r.status_code == 422 and r.json()["field"] == "active"


def test_a_role_change_ends_the_user_s_tokens(client, street, clock):
    create(client, "wangfang", "grid_worker", grid_code="C1-01")
    tokens = sign_in(client, "wangfang")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/auth/me", headers=auth).status_code == 200
    clock.advance(seconds=2)
    r = client.patch("/api/users/wangfang", json={"role": "grid_leader"})
    assert r.status_code == 200 and r.json()["role"] == "grid_leader"
    assert client.get("/api/auth/me", headers=auth).status_code == 401
    r = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    # Signed in again, the user acts under the new role.
    fresh = sign_in(client, "wangfang")["access_token"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh}"}).json()
    assert me["role"] == "grid_leader"


def test_a_scope_change_ends_the_tokens_and_a_rename_does_not(client, street, clock):
    create(client, "wangfang", "grid_worker", grid_code="C1-01")
    tokens = sign_in(client, "wangfang")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    clock.advance(seconds=2)
    assert client.patch("/api/users/wangfang", json={"display_name": "王芳"}).status_code == 200
    assert client.get("/api/auth/me", headers=auth).status_code == 200
    assert client.patch("/api/users/wangfang", json={"grid_code": "C1-02"}).status_code == 200
    assert client.get("/api/auth/me", headers=auth).status_code == 401


def test_a_disabled_account_stays_out_when_enabled_again_until_it_signs_in(client, street, clock):
    create(client, "zhao", "auditor")
    tokens = sign_in(client, "zhao")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    clock.advance(seconds=2)
    assert client.patch("/api/users/zhao", json={"active": False}).json()["active"] is False
    assert (
        client.post("/api/auth/token", data={"username": "zhao", "password": PASSWORD}).status_code
        == 401
    )
    assert client.patch("/api/users/zhao", json={"active": True}).status_code == 200
    # The access token from before the disabling does not come back to life.
    assert client.get("/api/auth/me", headers=auth).status_code == 401
    r = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    sign_in(client, "zhao")


def test_the_last_active_street_administrator_cannot_be_demoted_or_disabled(client, street):
    # `client` is signed in as "office", the only street administrator.
    r = client.patch("/api/users/office", json={"role": "auditor"})
    assert r.status_code == 409 and r.json()["field"] == "role"
    r = client.patch("/api/users/office", json={"active": False})
    assert r.status_code == 409 and r.json()["field"] == "active"
    # A disabled administrator does not count as a second one.
    create(client, "deputy", "street_admin")
    assert client.patch("/api/users/deputy", json={"active": False}).status_code == 200
    assert client.patch("/api/users/office", json={"role": "auditor"}).status_code == 409
    # With a second active one, either may go.
    assert client.patch("/api/users/deputy", json={"active": True}).status_code == 200
    r = client.patch("/api/users/office", json={"role": "auditor"})
    assert r.status_code == 200, r.text
    deputy = bearer(client, Persona("deputy", "street_admin"))
    r = client.patch("/api/users/deputy", json={"active": False}, headers=deputy)
    assert r.status_code == 409


def test_the_command_line_cannot_disable_the_last_administrator_either(session, client, clock):
    bearer(client, Persona("office", "street_admin"))
    with pytest.raises(Conflict, match="last active street administrator"):
        service.disable_user(session, "office", by="cli:root", now=clock())


def test_an_administrator_sets_a_password_which_ends_tokens_and_lifts_a_lock(client, street, clock):
    create(client, "zhao", "auditor")
    tokens = sign_in(client, "zhao")
    for _ in range(5):
        client.post("/api/auth/token", data={"username": "zhao", "password": "wrong guess 123"})
    clock.advance(seconds=2)
    r = client.post("/api/users/zhao/password", json={"password": "short"})
    assert r.status_code == 422 and r.json()["field"] == "password"
    r = client.post("/api/users/Zhao/password", json={"password": "a brand new passphrase"})
    assert r.status_code == 204
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/auth/me", headers=auth).status_code == 401
    sign_in(client, "zhao", "a brand new passphrase")  # not locked any more


def test_a_user_changes_their_own_password_with_the_current_one(client, street, clock):
    create(client, "zhao", "auditor")
    old = sign_in(client, "zhao")
    auth = {"Authorization": f"Bearer {old['access_token']}"}
    clock.advance(seconds=2)
    body = {"current_password": PASSWORD, "new_password": "my own new passphrase"}
    r = client.post("/api/auth/password", json=body, headers=auth)
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/auth/me", headers=fresh).status_code == 200
    assert client.get("/api/auth/me", headers=auth).status_code == 401
    r = client.post("/api/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert r.status_code == 401
    sign_in(client, "zhao", "my own new passphrase")


def test_a_wrong_current_password_is_refused_and_counts_towards_the_lock_out(
    client, street, session
):
    create(client, "zhao", "auditor")
    auth = {"Authorization": f"Bearer {sign_in(client, 'zhao')['access_token']}"}
    body = {"current_password": "not my password", "new_password": "my own new passphrase"}
    for _ in range(5):
        r = client.post("/api/auth/password", json=body, headers=auth)
        assert r.status_code == 422 and r.json()["field"] == "current_password"
    # Five wrong guesses lock the account: not even the right password changes it now.
    right = {"current_password": PASSWORD, "new_password": "my own new passphrase"}
    assert client.post("/api/auth/password", json=right, headers=auth).status_code == 422
    locked = session.execute(
        sa.text("SELECT locked_until IS NOT NULL FROM users WHERE username = 'zhao'")
    ).scalar_one()
    assert locked


def test_a_weak_new_password_is_refused(client, street):
    create(client, "zhao", "auditor")
    auth = {"Authorization": f"Bearer {sign_in(client, 'zhao')['access_token']}"}
    body = {"current_password": PASSWORD, "new_password": "1234567890"}
    r = client.post("/api/auth/password", json=body, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "new_password"
