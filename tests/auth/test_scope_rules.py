"""Role ↔ scope: each role takes the grid or unit it works in, and nothing it does not use."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests.auth.conftest import PASSWORD

from onegrid.auth import service
from onegrid.errors import InvalidInput

WHOLE_STREET_OR_OWN = ["street_admin", "street_dispatcher", "auditor", "gis_editor", "resident"]


def create(session, clock, role, **scope):
    return service.create_user(
        session,
        username=f"u-{role}".replace("_", "-"),
        password=PASSWORD,
        role=role,
        by="test",
        now=clock(),
        **scope,
    )


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("community_staff", {"grid_code": "C1"}),
        ("grid_leader", {"grid_code": "C1-01"}),
        ("grid_worker", {"grid_code": "C1-02"}),
        ("grid_worker", {"grid_code": "C1-01-M"}),  # a micro grid
        ("grid_leader", {"grid_code": "D1"}),  # a dedicated grid
        ("department_handler", {"unit_code": "D01"}),  # a district department
        ("department_handler", {"unit_code": "S03"}),  # a street office
        ("department_handler", {"unit_code": "unit:D1"}),  # the school behind a dedicated grid
        ("department_handler", {"unit_code": "community:C1"}),  # territory: 属地兜底
        ("property_staff", {"unit_code": "P01"}),
        *((role, {}) for role in WHOLE_STREET_OR_OWN),
    ],
)
def test_each_role_is_created_with_the_scope_it_works_in(session, clock, street, role, scope):
    user = create(session, clock, role, **scope)
    assert (user["role"], user["unit_code"], user["grid_code"]) == (
        role,
        scope.get("unit_code"),
        scope.get("grid_code"),
    )


@pytest.mark.parametrize(
    ("role", "scope", "field", "reason"),
    [
        ("community_staff", {}, "grid_code", "needs grid_code"),
        ("community_staff", {"grid_code": "C1-01"}, "grid_code", "third-level grid"),
        ("community_staff", {"grid_code": "S"}, "grid_code", "street grid"),
        ("grid_leader", {"grid_code": "C1"}, "grid_code", "is a second-level"),
        ("grid_worker", {}, "grid_code", "needs grid_code"),
        ("grid_worker", {"grid_code": "NOPE"}, "grid_code", "no current grid"),
        ("grid_worker", {"grid_code": "C1-01", "unit_code": "D01"}, "unit_code", "leave"),
        ("department_handler", {}, "unit_code", "needs unit_code"),
        ("department_handler", {"unit_code": "P01"}, "unit_code", "property_company"),
        ("department_handler", {"unit_code": "D99"}, "unit_code", "no active unit"),
        ("department_handler", {"unit_code": "D01", "grid_code": "C1"}, "grid_code", "leave"),
        ("property_staff", {"unit_code": "D01"}, "unit_code", "is a department"),
        ("property_staff", {}, "unit_code", "needs unit_code"),
        *((role, {"grid_code": "C1"}, "grid_code", "leave") for role in WHOLE_STREET_OR_OWN),
        *((role, {"unit_code": "D01"}, "unit_code", "leave") for role in WHOLE_STREET_OR_OWN),
        ("mayor", {}, "role", "unknown role"),
    ],
)
def test_a_role_without_its_scope_or_with_one_it_does_not_use_is_refused(
    session, clock, street, role, scope, field, reason
):
    with pytest.raises(InvalidInput, match=reason) as refused:
        create(session, clock, role, **scope)
    assert refused.value.field == field


def test_a_retired_grid_cannot_be_given(session, clock, street):
    session.execute(text("UPDATE grids SET valid_to = now() WHERE code = 'C1-02'"))
    with pytest.raises(InvalidInput, match="no current grid") as refused:
        create(session, clock, "grid_worker", grid_code="C1-02")
    assert refused.value.field == "grid_code"


def test_a_user_name_outside_the_allowed_letters_is_refused(session, clock, street):
    with pytest.raises(InvalidInput) as refused:
        service.create_user(
            session, username="王芳", password=PASSWORD, role="auditor", by="t", now=clock()
        )
    assert refused.value.field == "username"


def test_the_api_names_the_field_and_the_reason(client, street):
    r = client.post(
        "/api/users",
        json={"username": "liqiang", "password": PASSWORD, "role": "community_staff"},
    )
    assert r.status_code == 422
    assert r.json()["field"] == "grid_code" and "second-level" in r.json()["message"]
    r = client.post(
        "/api/users",
        json={"username": "zhao", "password": PASSWORD, "role": "auditor", "unit_code": "D01"},
    )
    assert r.status_code == 422 and r.json()["field"] == "unit_code"


def test_a_change_is_checked_on_the_result(client, street):
    assert (
        client.post(
            "/api/users",
            json={
                "username": "wangfang",
                "password": PASSWORD,
                "role": "grid_worker",
                "grid_code": "C1-01",
            },
        ).status_code
        == 201
    )
    # A grid worker made community staff keeps a third-level grid: refused, nothing changed.
    r = client.patch("/api/users/wangfang", json={"role": "community_staff"})
    assert r.status_code == 422 and r.json()["field"] == "grid_code"
    # Made an auditor, the grid must go too, or it would look like a limit.
    r = client.patch("/api/users/wangfang", json={"role": "auditor"})
    assert r.status_code == 422 and r.json()["field"] == "grid_code"
    r = client.patch("/api/users/wangfang", json={"role": "community_staff", "grid_code": "C1"})
    assert r.status_code == 200, r.text
    assert (r.json()["role"], r.json()["grid_code"]) == ("community_staff", "C1")
    r = client.patch("/api/users/wangfang", json={"role": "auditor", "grid_code": None})
    assert r.status_code == 200 and r.json()["grid_code"] is None


def test_a_rename_or_disabling_does_not_need_a_scope_that_is_still_valid(client, session, street):
    client.post(
        "/api/users",
        json={"username": "old", "password": PASSWORD, "role": "grid_worker", "grid_code": "C1-02"},
    )
    session.execute(text("UPDATE grids SET valid_to = now() WHERE code = 'C1-02'"))
    assert client.patch("/api/users/old", json={"display_name": "老王"}).status_code == 200
    assert client.patch("/api/users/old", json={"active": False}).status_code == 200
    # Back in service it needs a grid that exists.
    r = client.patch("/api/users/old", json={"active": True})
    assert r.status_code == 422 and r.json()["field"] == "grid_code"
