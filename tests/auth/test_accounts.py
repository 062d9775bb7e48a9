"""Accounts: argon2 passwords, sign-in with lock-out, token expiry, refresh, revocation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from tests.cases.test_workflow_api import GARBAGE, IN_WEST, STREET, WEST
from tests.helpers import load_grids

from onegrid.auth import service
from onegrid.units import service as units_service

PASSWORD = "correct horse battery"


@pytest.fixture
def worker(session, clock, street):
    return service.create_user(
        session,
        username="Wang.Fang",
        password=PASSWORD,
        role="grid_worker",
        grid_code="C1-01",
        by="test",
        now=clock(),
    )


def sign_in(client, password=PASSWORD, username="wang.fang"):
    return client.post("/api/auth/token", data={"username": username, "password": password})


def test_passwords_are_stored_as_argon2id_hashes(session, worker):
    stored = session.execute(
        sa.text("SELECT password_hash FROM users WHERE username = 'wang.fang'")
    ).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "password_hash" not in worker


@pytest.mark.parametrize("weak", ["short", "1234567890123", "aaaaaaaaaaaa"])
def test_weak_passwords_are_refused(session, weak):
    with pytest.raises(Exception, match="password"):
        service.create_user(
            session, username="x1", password=weak, role="auditor", by="t", now=datetime.now(UTC)
        )


def test_sign_in_gives_tokens_that_say_who_is_signed_in(client, worker):
    r = sign_in(client)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json() == {
        "username": "wang.fang",
        "display_name": "wang.fang",
        "role": "grid_worker",
        "unit_code": None,
        "grid_code": "C1-01",
    }


def test_a_wrong_password_is_401_and_does_not_say_which_part_was_wrong(client, worker):
    wrong = sign_in(client, password="wrong password here")
    unknown = sign_in(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_five_failures_lock_the_account_for_a_while(client, worker, clock, session):
    for _ in range(5):
        assert sign_in(client, password="wrong password here").status_code == 401
    locked = sign_in(client)  # the right password, but locked
    assert locked.status_code == 401
    # The same words as for an unknown name: the answer does not tell that the account exists.
    assert locked.json()["message"] == sign_in(client, username="nobody").json()["message"]
    clock.advance(minutes=16)
    assert sign_in(client).status_code == 200
    actions = (
        session.execute(
            sa.text("SELECT action FROM audit_log WHERE actor = 'wang.fang' ORDER BY id")
        )
        .scalars()
        .all()
    )
    assert actions.count("sign_in_failed") == 5 and "sign_in_locked" in actions
    assert actions[-1] == "sign_in"


def test_an_access_token_expires(client, worker, clock):
    token = sign_in(client).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/auth/me", headers=auth).status_code == 200
    clock.advance(minutes=16)
    assert client.get("/api/auth/me", headers=auth).status_code == 401


def test_a_refresh_token_is_used_once_and_can_be_revoked(client, worker):
    first = sign_in(client).json()
    second = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    reused = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    # The reuse of a used-up token revokes the pair issued from it too.
    token = second.json()["refresh_token"]
    assert client.post("/api/auth/refresh", json={"refresh_token": token}).status_code == 401
    third = sign_in(client).json()["refresh_token"]
    assert client.post("/api/auth/revoke", json={"refresh_token": third}).status_code == 204
    assert client.post("/api/auth/refresh", json={"refresh_token": third}).status_code == 401


def test_a_nul_in_the_user_name_is_a_plain_refusal(client, worker):
    assert sign_in(client, username="wang\x00fang").status_code == 401


def test_a_disabled_user_cannot_sign_in_or_refresh(client, worker, session, clock):
    tokens = sign_in(client).json()
    service.disable_user(session, "wang.fang", by="admin", now=clock())
    assert sign_in(client).status_code == 401
    r = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/auth/me", headers=auth).status_code == 401


@pytest.mark.parametrize("later_s", [2, 0.3])  # 0.3: in the same second as the sign-in
def test_a_password_change_ends_earlier_tokens(client, worker, session, clock, later_s):
    tokens = sign_in(client).json()
    clock.advance(seconds=later_s)
    service.set_password(session, "wang.fang", "a new long passphrase", by="admin", now=clock())
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/auth/me", headers=auth).status_code == 401
    r = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    assert sign_in(client, password="a new long passphrase").status_code == 200


def test_a_forged_or_foreign_token_is_refused(anonymous, worker):
    client = anonymous
    import jwt

    forged = jwt.encode(
        {"sub": "wang.fang", "iat": 0, "exp": 4102444800}, "a-guessed-key-" * 3, "HS256"
    )
    r = client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    assert client.get("/api/auth/me").status_code == 401


def test_production_needs_a_secret_key(settings):
    production = settings.model_copy(update={"environment": "production", "secret_key": None})
    with pytest.raises(Exception, match="ONEGRID_SECRET_KEY"):
        service.signing_key(production)


def test_a_signed_in_user_acts_on_a_case_with_the_token_alone(client, session, clock, tmp_path):
    clock.set("2026-12-01T09:00:00+08:00")
    units_service.load_seed(session)
    load_grids(session, tmp_path, "street", {"S": STREET})
    load_grids(session, tmp_path, "second", {"C1": WEST})
    service.create_user(
        session,
        username="liqiang",
        password=PASSWORD,
        role="community_staff",
        grid_code="C1",
        by="t",
        now=clock(),
    )
    token = sign_in(client, username="liqiang").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    case = client.post(
        "/api/cases",
        json={"lon": IN_WEST[0], "lat": IN_WEST[1], "category_code": GARBAGE},
        headers=auth,
    ).json()
    assert case["reporter"] == "liqiang"
    moved = client.post(
        f"/api/cases/{case['id']}/actions/screen", json={"version": 1}, headers=auth
    )
    assert moved.status_code == 200, moved.text
    event = client.get(f"/api/cases/{case['id']}/events").json()[-1]
    assert (event["actor"], event["role"]) == ("liqiang", "community_staff")
    bad = client.post(
        f"/api/cases/{case['id']}/actions/return",
        json={"version": 2, "reason": "x"},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert bad.status_code == 401


def test_declaring_oneself_in_headers_grants_nothing(anonymous):
    r = anonymous.post(
        "/api/cases/1/actions/screen",
        json={"version": 1},
        headers={"X-OneGrid-User": "x", "X-OneGrid-Role": "street_admin"},
    )
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_one_address_trying_many_accounts_is_slowed_down(anonymous, worker, settings):
    from fastapi.testclient import TestClient

    from onegrid.api.ratelimit import ClientLimits

    limit = 3  # a refill every 20 s: none comes back during the test
    few = settings.model_copy(update={"sign_ins_per_minute": limit})
    anonymous.app.state.client_limits = ClientLimits.from_settings(few)
    for i in range(limit):
        assert sign_in(anonymous, username=f"guess-{i}").status_code == 401
    refused = sign_in(anonymous)  # even with the right password
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    elsewhere = TestClient(anonymous.app, client=("10.0.0.9", 4000))
    assert sign_in(elsewhere).status_code == 200
