"""The responsibility list (事项清单) through the API: items, where they apply, who may change
them."""

from __future__ import annotations

import pytest
from tests.duties.conftest import ADMIN, COMMUNITY_C1, RESIDENT, WORKER_C1_01
from tests.helpers import bearer

ITEMS = "/api/responsibility-items"


def new_item(client, code, level="grid", **extra):
    body = {"code": code, "name": f"事项 {code}", "responsible_level": level, **extra}
    r = client.post(ITEMS, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def attach(client, code, **target):
    r = client.post(f"{ITEMS}/{code}/assignments", json=target)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def attached(client, duty_street):
    """An item on each rung of C1-01-M's chain, one in the other community and one on a unit."""
    new_item(client, "ON-STREET", "street", time_limit="2wd")
    new_item(client, "ON-C1", "community")
    new_item(client, "ON-C1-01", "grid", on_the_spot=True, time_limit="30min")
    new_item(client, "ON-C2", "community")
    new_item(client, "ON-D01", "department", department_code="D01", time_limit="4h")
    new_item(client, "DEPT-D01", "department", department_code="D01")
    attach(client, "ON-STREET", grid_code="S")
    attach(client, "ON-C1", grid_code="C1")
    attach(client, "ON-C1-01", grid_code="C1-01")
    attach(client, "ON-C2", grid_code="C2")
    attach(client, "ON-D01", unit_code="D01")


def codes(answer) -> set[str]:
    return {item["code"] for item in answer.json()}


def test_items_attached_to_a_grid_apply_to_it_and_every_grid_under_it(client, attached):
    micro = client.get(ITEMS, params={"grid": "C1-01-M"})
    assert micro.status_code == 200, micro.text
    assert codes(micro) == {"ON-STREET", "ON-C1", "ON-C1-01"}
    via = {item["code"]: item["applies_via"] for item in micro.json()}
    assert via == {"ON-STREET": ["S"], "ON-C1": ["C1"], "ON-C1-01": ["C1-01"]}
    assert codes(client.get(ITEMS, params={"grid": "C1-02"})) == {"ON-STREET", "ON-C1"}
    assert codes(client.get(ITEMS, params={"grid": "C2-01"})) == {"ON-STREET", "ON-C2"}
    assert codes(client.get(ITEMS, params={"grid": "S"})) == {"ON-STREET"}


def test_filters_by_level_and_by_unit_attached_or_named_as_department(client, attached):
    assert codes(client.get(ITEMS, params={"level": "community"})) == {"ON-C1", "ON-C2"}
    assert codes(client.get(ITEMS, params={"unit": "D01"})) == {"ON-D01", "DEPT-D01"}
    assert codes(client.get(ITEMS, params={"unit": "D02"})) == set()
    limits = {i["code"]: i["time_limit"] for i in client.get(ITEMS).json()}
    assert limits["ON-STREET"] == "2wd" and limits["ON-C1-01"] == "30min"


def test_territory_staff_read_the_list_but_only_their_grids_attachments(client, attached):
    worker = bearer(client, WORKER_C1_01)
    everything = client.get(ITEMS, headers=worker)
    assert everything.status_code == 200
    assert len(everything.json()) == 6  # the whole list
    grids = {i["code"]: i["grid_codes"] for i in everything.json()}
    # Their own chain up to the street is theirs to know; the other community is not.
    assert grids["ON-STREET"] == ["S"] and grids["ON-C1"] == ["C1"]
    assert grids["ON-C2"] == []
    assert client.get(ITEMS, params={"grid": "C2-01"}, headers=worker).status_code == 404
    assert client.get(ITEMS, params={"grid": "C1-02"}, headers=worker).status_code == 404
    assert codes(client.get(ITEMS, params={"grid": "C1-01-M"}, headers=worker)) == {
        "ON-STREET",
        "ON-C1",
        "ON-C1-01",
    }
    assert client.get(ITEMS, headers=bearer(client, RESIDENT)).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"responsible_level": "department"}, "department_code"),
        ({"responsible_level": "department", "department_code": "P01"}, "department_code"),
        ({"responsible_level": "department", "department_code": "NOPE"}, "department_code"),
        ({"responsible_level": "grid", "department_code": "D01"}, "department_code"),
        ({"responsible_level": "grid", "time_limit": "3 days"}, "time_limit"),
        ({"responsible_level": "grid", "time_limit": "0wd"}, "time_limit"),
        ({"responsible_level": "grid", "category_code": "99999"}, "category_code"),
        ({"responsible_level": "block"}, "responsible_level"),
        ({"responsible_level": "grid", "on_the_spot": "yes"}, "on_the_spot"),
        ({"responsible_level": "grid", "colour": "red"}, "colour"),
    ],
)
def test_an_item_that_cannot_be_used_is_refused_naming_the_field(client, duty_street, body, field):
    r = client.post(ITEMS, json={"code": "X1", "name": "x", **body})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text
    assert client.get(ITEMS).json() == []


def test_codes_are_unique_and_only_the_street_admin_changes_the_list(client, duty_street):
    new_item(client, "A1")
    r = client.post(ITEMS, json={"code": "A1", "name": "again", "responsible_level": "grid"})
    assert r.status_code == 409 and r.json()["field"] == "code"
    body = {"code": "A2", "name": "x", "responsible_level": "grid"}
    for persona in (COMMUNITY_C1, WORKER_C1_01, RESIDENT):
        assert client.post(ITEMS, json=body, headers=bearer(client, persona)).status_code == 403
    r = client.patch(f"{ITEMS}/A1", json={"name": "y"}, headers=bearer(client, COMMUNITY_C1))
    assert r.status_code == 403
    assert client.post(ITEMS, json=body, headers=bearer(client, ADMIN)).status_code == 201


def test_editing_changes_only_the_fields_sent_and_deactivated_items_leave_the_list(
    client, duty_street
):
    new_item(client, "B1", "department", department_code="D01", on_the_spot=True)
    r = client.patch(f"{ITEMS}/B1", json={"responsible_level": "street"})
    assert r.status_code == 422 and r.json()["field"] == "department_code"
    r = client.patch(f"{ITEMS}/B1", json={"responsible_level": "street", "department_code": None})
    assert r.status_code == 200, r.text
    assert r.json()["responsible_level"] == "street" and r.json()["on_the_spot"] is True
    assert client.patch(f"{ITEMS}/B1", json={"time_limit": "2WD"}).status_code == 422
    assert client.patch(f"{ITEMS}/B1", json={"time_limit": " 2wd "}).json()["time_limit"] == "2wd"
    assert client.patch(f"{ITEMS}/NOPE", json={"name": "x"}).status_code == 404
    assert client.patch(f"{ITEMS}/B1", json={"active": False}).status_code == 200
    assert codes(client.get(ITEMS)) == set()
    assert codes(client.get(ITEMS, params={"include_inactive": True})) == {"B1"}
    changes = client.get("/api/audit", params={"action": "responsibility_item_changed"}).json()
    assert [c["detail"] for c in changes][0] == {"active": False}


def test_attach_and_detach_answer_for_what_is_and_is_not_attached(client, duty_street):
    new_item(client, "C1-ITEM")
    assert attach(client, "C1-ITEM", grid_code="C1")["grid_codes"] == ["C1"]
    again = client.post(f"{ITEMS}/C1-ITEM/assignments", json={"grid_code": "C1"})
    assert again.status_code == 409
    for target, field in (({"grid_code": "ZZ"}, "grid_code"), ({"unit_code": "ZZ"}, "unit_code")):
        r = client.post(f"{ITEMS}/C1-ITEM/assignments", json=target)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    both = client.post(f"{ITEMS}/C1-ITEM/assignments", json={"grid_code": "C1", "unit_code": "D01"})
    assert both.status_code == 422
    r = client.delete(f"{ITEMS}/C1-ITEM/assignments", params={"grid_code": "C1"})
    assert r.status_code == 204, r.text
    r = client.delete(f"{ITEMS}/C1-ITEM/assignments", params={"grid_code": "C1"})
    assert r.status_code == 404
    assert codes(client.get(ITEMS, params={"grid": "C1-01"})) == set()
    logged = [
        e["action"]
        for e in client.get("/api/audit").json()
        if e["action"].startswith("responsibility_item")
    ]
    assert logged == [
        "responsibility_item_detached",
        "responsibility_item_attached",
        "responsibility_item_created",
    ]


@pytest.mark.parametrize("field", ["name", "responsible_level", "on_the_spot", "active"])
def test_a_field_every_item_needs_cannot_be_cleared(client, duty_street, field):
    new_item(client, "N1")
    r = client.patch(f"{ITEMS}/N1", json={field: None})
    assert r.status_code == 422 and r.json()["field"] == field, r.text
