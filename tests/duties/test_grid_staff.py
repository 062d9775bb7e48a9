"""The people who work in each grid, and the grids sunk departments serve: lists scoped like
grids, phones only for those who may see them, changes by the street and the community."""

from __future__ import annotations

import pytest
from tests.duties.conftest import (
    ADMIN,
    AUDITOR,
    COMMUNITY_C1,
    DISPATCHER,
    HANDLER_D01,
    LEADER_C1_01,
    RESIDENT,
    WORKER_C1_01,
)
from tests.helpers import Persona, bearer

STAFF = "/api/grid-staff"
# grid -> (name, duty, unit, phone)
PEOPLE = {
    "C1-01": ("王芳", "grid_leader", None, "13800000001"),
    "C1-01-M": ("李强", "full_time_worker", None, "13800000002"),
    "C1-02": ("赵敏", "sunk_staff", "D01", "13800000003"),
    "C2-01": ("张华", "police", None, "13800000004"),
    "C1": ("刘洋", "instructor", None, None),
}
# Who sees which grids' staff (their subtree; everyone else the whole street), and phones.
SEES = {
    ADMIN: set(PEOPLE),
    DISPATCHER: set(PEOPLE),
    AUDITOR: set(PEOPLE),
    HANDLER_D01: set(PEOPLE),
    COMMUNITY_C1: {"C1", "C1-01", "C1-01-M", "C1-02"},
    LEADER_C1_01: {"C1-01", "C1-01-M"},
    WORKER_C1_01: {"C1-01", "C1-01-M"},
}
SEES_PHONES = {ADMIN, DISPATCHER, COMMUNITY_C1, LEADER_C1_01}


@pytest.fixture
def people(client, duty_street) -> dict[str, int]:
    ids = {}
    for grid, (name, duty, unit, phone) in PEOPLE.items():
        body = {"grid_code": grid, "name": name, "duty": duty, "unit_code": unit, "phone": phone}
        r = client.post(STAFF, json=body)
        assert r.status_code == 201, r.text
        ids[grid] = r.json()["id"]
    return ids


@pytest.mark.parametrize("persona", list(SEES), ids=lambda p: p.role)
def test_staff_lists_follow_the_scope_and_phones_only_reach_those_who_may_see_them(
    client, people, persona
):
    r = client.get(STAFF, headers=bearer(client, persona))
    assert r.status_code == 200, r.text
    rows = {row["grid_code"]: row for row in r.json()}
    assert set(rows) == SEES[persona]
    for grid, row in rows.items():
        name, duty, unit, phone = PEOPLE[grid]
        assert (row["name"], row["duty"], row["unit_code"]) == (name, duty, unit)
        if persona in SEES_PHONES:
            assert row["phone"] == phone and row["phone_hidden"] is False
        else:
            assert row["phone"] is None and row["phone_hidden"] is True
    if persona not in SEES_PHONES:
        assert "138000" not in r.text


def test_a_grid_outside_the_scope_answers_as_one_that_does_not_exist(client, people):
    worker = bearer(client, WORKER_C1_01)
    for grid in ("C2-01", "C1-02", "NOPE"):
        assert client.get(STAFF, params={"grid": grid}, headers=worker).status_code == 404
    mine = client.get(STAFF, params={"grid": "C1-01-M"}, headers=worker).json()
    assert [row["name"] for row in mine] == ["李强"]
    assert client.get(STAFF, headers=bearer(client, RESIDENT)).status_code == 403
    sunk = client.get(STAFF, params={"duty": "sunk_staff"}).json()
    assert [(r["name"], r["unit_name"]) for r in sunk] == [("赵敏", "金水区城市管理局")]


def test_community_staff_change_the_staff_of_their_own_community_only(client, people):
    community = bearer(client, COMMUNITY_C1)
    body = {"grid_code": "C1-02", "name": "孙丽", "duty": "part_time_worker"}
    assert client.post(STAFF, json=body, headers=community).status_code == 201
    # The other community's grid is as unknown to them as a grid that does not exist.
    outside = client.post(STAFF, json={**body, "grid_code": "C2-01"}, headers=community)
    missing = client.post(STAFF, json={**body, "grid_code": "C9-99"}, headers=community)
    assert outside.status_code == missing.status_code == 422
    assert outside.json()["field"] == "grid_code"
    assert outside.json()["message"].replace("C2-01", "?") == missing.json()["message"].replace(
        "C9-99", "?"
    )
    r = client.patch(f"{STAFF}/{people['C2-01']}", json={"name": "x"}, headers=community)
    assert r.status_code == 404
    r = client.patch(f"{STAFF}/{people['C1-01']}", json={"grid_code": "C2-01"}, headers=community)
    assert r.status_code == 422 and r.json()["field"] == "grid_code"
    r = client.patch(f"{STAFF}/{people['C1-01']}", json={"phone": None}, headers=community)
    assert r.status_code == 200 and r.json()["phone"] is None
    for persona in (LEADER_C1_01, WORKER_C1_01, DISPATCHER, HANDLER_D01, RESIDENT):
        r = client.post(STAFF, json=body, headers=bearer(client, persona))
        assert r.status_code == 403, (persona.role, r.text)


def test_deactivated_staff_leave_the_list_and_the_log_keeps_no_phone(client, people):
    r = client.patch(f"{STAFF}/{people['C2-01']}", json={"active": False, "phone": "010-1234567"})
    assert r.status_code == 200, r.text
    assert "C2-01" not in {row["grid_code"] for row in client.get(STAFF).json()}
    everyone = client.get(STAFF, params={"include_inactive": True}).json()
    assert {row["grid_code"] for row in everyone} == set(PEOPLE)
    log = client.get("/api/audit", params={"action": "grid_staff_changed"}).json()
    assert log[0]["detail"]["fields"] == ["active", "phone"]
    assert "1234567" not in str(log) and "138000" not in str(client.get("/api/audit").json())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"duty": "sunk_staff"}, "unit_code"),
        ({"duty": "sunk_staff", "unit_code": "P01"}, "unit_code"),
        ({"duty": "police", "unit_code": "NOPE"}, "unit_code"),
        ({"duty": "cook"}, "duty"),
        ({"duty": "police", "phone": "call me"}, "phone"),
        ({"duty": "police", "username": "nobody-here"}, "username"),
        ({"duty": "police", "name": "   "}, "name"),
    ],
)
def test_staff_records_that_cannot_be_used_are_refused_naming_the_field(
    client, duty_street, body, field
):
    r = client.post(STAFF, json={"grid_code": "C1-01", "name": "王芳", **body})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert client.get(STAFF).json() == []


def test_a_staff_record_may_name_the_account_of_the_person(client, duty_street):
    bearer(client, Persona("wangfang", "grid_worker", grid="C1-01"))
    body = {"grid_code": "C1-01", "name": "王芳", "duty": "full_time_worker"}
    r = client.post(STAFF, json={**body, "username": "WangFang"})
    assert r.status_code == 201 and r.json()["username"] == "wangfang"


UNIT_GRIDS = "/api/unit-grids"


def test_the_grids_a_department_serves_are_set_whole_and_listed_by_scope(client, duty_street):
    r = client.put("/api/units/D01/grids", json={"grid_codes": ["C2-01", "C1-01", "C1-01"]})
    assert r.status_code == 200, r.text
    assert r.json()["grid_codes"] == ["C1-01", "C2-01"]
    client.put("/api/units/D02/grids", json={"grid_codes": ["C2-01"]})
    listed = {u["unit_code"]: u["grid_codes"] for u in client.get(UNIT_GRIDS).json()}
    assert listed == {"D01": ["C1-01", "C2-01"], "D02": ["C2-01"]}
    # Community C1 sees only its own grids, and no unit that serves none of them.
    mine = client.get(UNIT_GRIDS, headers=bearer(client, COMMUNITY_C1)).json()
    assert {u["unit_code"]: u["grid_codes"] for u in mine} == {"D01": ["C1-01"]}
    assert client.put("/api/units/D01/grids", json={"grid_codes": ["C1-02"]}).status_code == 200
    assert client.get(UNIT_GRIDS, params={"unit": "D01"}).json()[0]["grid_codes"] == ["C1-02"]
    log = client.get("/api/audit", params={"action": "unit_grids_set"}).json()
    assert log[0]["detail"] == {"before": ["C1-01", "C2-01"], "after": ["C1-02"]}


def test_only_departments_and_current_grids_are_set(client, duty_street):
    assert client.put("/api/units/NOPE/grids", json={"grid_codes": []}).status_code == 404
    r = client.put("/api/units/P01/grids", json={"grid_codes": ["C1-01"]})
    assert r.status_code == 422 and r.json()["field"] == "code"
    r = client.put("/api/units/D01/grids", json={"grid_codes": ["C1-01", "ZZ"]})
    assert r.status_code == 422 and "'ZZ'" in r.json()["message"]
    assert client.get(UNIT_GRIDS).json() == []
    r = client.put(
        "/api/units/D01/grids", json={"grid_codes": ["C1-01"]}, headers=bearer(client, COMMUNITY_C1)
    )
    assert r.status_code == 403


@pytest.mark.parametrize("field", ["grid_code", "name", "duty", "active"])
def test_a_field_every_record_needs_cannot_be_cleared(client, people, field):
    r = client.patch(f"{STAFF}/{people['C1-01']}", json={field: None})
    assert r.status_code == 422 and r.json()["field"] == field, r.text
