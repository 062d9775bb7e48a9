"""Whole case lifecycles through the API (网格上报 → 部门反馈), with the side paths."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from tests.helpers import Persona, bearer, load_grids, write_grid_file

from onegrid.cases.deadlines import TIME_ZONE
from onegrid.grids import service as grids_service
from onegrid.units import repository as units_repo
from onegrid.units import service as units_service

# A street of two communities (one third-level grid each) near Zhengzhou, a primary school
# as a dedicated grid, and a courtyard managed by a property company.
STREET = "POLYGON((113.60 34.76, 113.62 34.76, 113.62 34.78, 113.60 34.78, 113.60 34.76))"
WEST = "POLYGON((113.60 34.76, 113.61 34.76, 113.61 34.78, 113.60 34.78, 113.60 34.76))"
EAST = "POLYGON((113.61 34.76, 113.62 34.76, 113.62 34.78, 113.61 34.78, 113.61 34.76))"
SCHOOL = "POLYGON((113.602 34.762, 113.604 34.762, 113.604 34.764, 113.602 34.764, 113.602 34.762))"
COURTYARD = (
    "MULTIPOLYGON(((113.612 34.772, 113.614 34.772, 113.614 34.774, 113.612 34.774,"
    " 113.612 34.772)))"
)
IN_WEST = (113.606, 34.770)
IN_SCHOOL = (113.603, 34.763)
IN_COURTYARD = (113.613, 34.773)

GARBAGE = "01001"  # 暴露垃圾: environment and sanitation, 1 working day
ILLEGAL_BUILDING = "05001"  # 违章搭建: not for a grid worker to fix on the spot
POSTERS = "01005"  # 乱贴乱画: a grid worker may clean it up on the spot

WORKER = Persona("wangfang", "grid_worker", grid="C1-01")
COMMUNITY = Persona("liqiang", "community_staff", grid="C1")
EAST_COMMUNITY = Persona("zhanghua", "community_staff", grid="C2")
DISPATCHER = Persona("zhaomin", "street_dispatcher")
ADMIN = Persona("director", "street_admin")
RESIDENT = Persona("resident-138", "resident")


def handler(unit: str) -> Persona:
    return Persona(f"handler-{unit}", "department_handler", unit=unit)


@pytest.fixture
def street(session, tmp_path):
    return build_street(session, tmp_path)


def build_street(session, tmp_path):
    units_service.load_seed(session)
    load_grids(session, tmp_path, "street", {"S": STREET})
    load_grids(session, tmp_path, "second", {"C1": WEST, "C2": EAST})
    load_grids(session, tmp_path, "third", {"C1-01": WEST, "C2-01": EAST})
    path = write_grid_file(
        tmp_path / "dedicated.geojson", {"D1": SCHOOL}, unit_name="金水区第一小学"
    )
    report = grids_service.import_grids(session, path, level="dedicated")
    assert not report.rejected
    grids_service.write_grids(session, "dedicated")
    units_repo.upsert_units(
        session,
        [
            {
                "code": "P01",
                "name": "红盾物业",
                "kind": "property_company",
                "grid_code": None,
                "phone": None,
            }
        ],
    )
    session.execute(
        sa.text(
            "INSERT INTO places (kind, code, name, management_status, manager_unit_code, geom)"
            " VALUES ('courtyard', 'Y1', '金华小区', 'red_property', 'P01',"
            " ST_GeomFromText(:wkt, 4326))"
        ),
        {"wkt": COURTYARD},
    )
    session.flush()
    return session


def report(client, at=IN_WEST, category=GARBAGE, headers=WORKER, **extra):
    body = {"lon": at[0], "lat": at[1], "category_code": category, "description": "test", **extra}
    r = client.post("/api/cases", json=body, headers=bearer(client, headers))
    assert r.status_code == 201, r.text
    return r.json()


def act(client, case, action, headers, expect=200, **fields):
    r = client.post(
        f"/api/cases/{case['id']}/actions/{action}",
        json={"version": case["version"], **fields},
        headers=bearer(client, headers),
    )
    assert r.status_code == expect, r.text
    return r.json()


def community_of(case) -> Persona:
    return COMMUNITY if case["second_code"] == "C1" else EAST_COMMUNITY


def dispatched(client, case):
    case = act(client, case, "screen", community_of(case))
    case = act(client, case, "file", DISPATCHER)
    return act(client, case, "dispatch", DISPATCHER)


def test_happy_path_from_grid_report_to_evaluation_writes_one_event_per_step(client, street):
    case = report(client)
    assert case["status"] == "reported" and case["step"] == "file"
    case = dispatched(client, case)
    assert case["status"] == "dispatched"
    unit = case["unit_code"]
    case = act(client, case, "accept", handler(unit))
    case = act(client, case, "report_back", handler(unit), note="已清运", expect=200)
    assert case["status"] == "reported_back" and case["step"] == "verify"
    case = act(client, case, "verify", WORKER, verdict="passed", note="现场已清理")
    case = act(client, case, "close", DISPATCHER)
    assert case["closed_at"] is not None and case["step"] is None
    case = act(client, case, "evaluate", COMMUNITY, satisfaction=5)
    assert case["status"] == "evaluated" and case["satisfaction"] == 5
    assert case["version"] == 9  # one more per move

    events = client.get(f"/api/cases/{case['id']}/events").json()
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("report", None, "reported"),
        ("screen", "reported", "screened"),
        ("file", "screened", "filed"),
        ("dispatch", "filed", "dispatched"),
        ("accept", "dispatched", "handling"),
        ("report_back", "handling", "reported_back"),
        ("verify", "reported_back", "verified"),
        ("close", "verified", "closed"),
        ("evaluate", "closed", "evaluated"),
    ]
    assert events[1]["actor"] == "liqiang" and events[1]["role"] == "community_staff"
    assert events[3]["data"]["dispatch_rule"] == "category_department"


def test_category_department_is_chosen_outside_premises(client, street):
    case = dispatched(client, report(client))
    category = client.get("/api/categories").json()
    department = next(c["department_code"] for c in category if c["code"] == GARBAGE)
    assert (case["unit_code"], case["dispatch_rule"]) == (department, "category_department")


def test_dedicated_grid_unit_handles_premises_matters_inside_it(client, street):
    case = dispatched(client, report(client, at=IN_SCHOOL))
    assert case["dispatch_rule"] == "dedicated_unit"
    assert case["unit_code"] == "unit:D1" and case["unit_name"] == "金水区第一小学"


def test_red_property_company_gets_cases_in_the_courtyard_it_claimed(client, street):
    case = dispatched(client, report(client, at=IN_COURTYARD))
    assert (case["unit_code"], case["dispatch_rule"]) == ("P01", "courtyard_company")
    # A type the property company does not handle still goes to its department.
    case = dispatched(client, report(client, at=IN_COURTYARD, category=ILLEGAL_BUILDING))
    assert case["dispatch_rule"] == "category_department"


def test_territory_is_the_last_resort_for_cases_without_a_category(client, street):
    r = client.post(
        "/api/cases",
        json={"lon": IN_WEST[0], "lat": IN_WEST[1], "category": "其他"},
        headers=bearer(client, WORKER),
    )
    case = dispatched(client, r.json())
    assert (case["unit_code"], case["dispatch_rule"]) == ("community:C1", "community")


def test_send_back_and_resubmit(client, street):
    case = report(client)
    case = act(client, case, "return", COMMUNITY, reason="照片不清楚，请补充")
    assert case["status"] == "returned" and case["step"] is None
    case = act(client, case, "resubmit", WORKER, note="已补拍照片")
    assert case["status"] == "reported" and case["step"] == "file"
    case = act(client, case, "screen", COMMUNITY)
    case = act(client, case, "send_back", DISPATCHER, reason="不属于本街道")
    assert case["status"] == "reported"
    case = dispatched(client, case)
    unit = case["unit_code"]
    other = "D01" if unit != "D01" else "D02"
    r = client.post(
        f"/api/cases/{case['id']}/actions/decline",
        json={"version": case["version"], "reason": "不是我们的"},
        headers=bearer(client, handler(other)),
    )
    assert r.status_code == 404  # another unit does not see the case at all
    case = act(client, case, "decline", handler(unit), reason="非本部门职责")
    assert case["status"] == "filed" and case["step"] == "file"
    case = act(client, case, "dispatch", DISPATCHER, unit_code="D01")
    assert (case["unit_code"], case["dispatch_rule"]) == ("D01", "chosen_by_dispatcher")


def test_void_needs_a_reason_and_whether_the_report_was_valid(client, street):
    case = report(client)
    r = client.post(
        f"/api/cases/{case['id']}/actions/void",
        json={"version": case["version"], "reason": "重复上报"},
        headers=bearer(client, COMMUNITY),
    )
    assert r.status_code == 422 and r.json()["field"] == "report_valid"
    case = act(client, case, "void", COMMUNITY, reason="已自行解决", report_valid=True)
    assert case["status"] == "voided" and case["allowed_actions"] == []
    r = client.post(
        f"/api/cases/{case['id']}/actions/screen",
        json={"version": case["version"]},
        headers=bearer(client, COMMUNITY),
    )
    assert r.status_code == 409
    assert "voided" in r.json()["message"] and r.json()["allowed"] == []
    # A void is written to the audit log: who, from where, why; the refused try is not.
    logged = client.get("/api/audit", params={"action": "case_voided"}).json()
    assert [(e["actor"], e["target"], e["client"]) for e in logged] == [
        ("liqiang", f"case {case['id']}", "testclient")
    ]
    assert logged[0]["detail"] == {"reason": "已自行解决", "report_valid": True}


def test_park_and_resume_moves_the_due_time_by_the_parked_time(client, street, clock):
    clock.set("2026-11-30T09:00:00+08:00")  # Monday
    case = dispatched(client, report(client))
    due = datetime.fromisoformat(case["due_at"])
    assert due == datetime.fromisoformat("2026-12-01T09:00:00+08:00")  # 1 working day
    clock.set("2026-11-30T10:00:00+08:00")
    case = act(client, case, "park", DISPATCHER, reason="等待产权单位确认")
    assert case["status"] == "parked" and case["due_at"] is None
    assert case["deadline"]["clock_stopped"] is True
    clock.set("2026-12-01T10:00:00+08:00")  # parked for one working day
    case = act(client, case, "resume", DISPATCHER)
    assert case["status"] == "dispatched"
    assert datetime.fromisoformat(case["due_at"]) == due + timedelta(days=1)
    events = client.get(f"/api/cases/{case['id']}/events").json()
    assert events[-1]["data"]["parked_s"] == 86400


def test_extension_moves_the_due_time_once_approved(client, street, clock):
    clock.set("2026-11-30T09:00:00+08:00")
    case = dispatched(client, report(client))
    unit = case["unit_code"]
    case = act(client, case, "accept", handler(unit))
    due = datetime.fromisoformat(case["due_at"])
    case = act(
        client, case, "request_extension", handler(unit), reason="需协调产权单位", extension="2wd"
    )
    assert case["extension_requested"] == "2wd"
    r = client.post(
        f"/api/cases/{case['id']}/actions/request_extension",
        json={"version": case["version"], "reason": "再延", "extension": "1wd"},
        headers=bearer(client, handler(unit)),
    )
    assert r.status_code == 409
    case = act(client, case, "approve_extension", DISPATCHER)
    assert datetime.fromisoformat(case["due_at"]) == due + timedelta(days=2)
    assert case["extension_count"] == 1 and case["extension_requested"] is None
    assert case["status"] == "handling"


def test_rework_twice_then_close(client, street):
    case = dispatched(client, report(client))
    unit = case["unit_code"]
    case = act(client, case, "accept", handler(unit))
    for attempt in (1, 2):
        case = act(client, case, "report_back", handler(unit), note=f"第{attempt}次处置")
        case = act(client, case, "verify", WORKER, verdict="failed", note="仍有垃圾")
        assert case["status"] == "handling" and case["unit_code"] == unit
        assert case["rework_count"] == attempt and case["step"] == "handle"
    case = act(client, case, "report_back", handler(unit), note="第3次处置")
    case = act(client, case, "verify", WORKER, verdict="passed", note="合格")
    case = act(client, case, "close", DISPATCHER)
    assert case["status"] == "closed" and case["rework_count"] == 2


def test_escalation_keeps_the_state_and_marks_the_case(client, street):
    case = dispatched(client, report(client))
    r = client.post(
        f"/api/cases/{case['id']}/actions/escalate",
        json={"version": case["version"], "note": "督办"},
        headers=bearer(client, DISPATCHER),
    )
    assert r.status_code == 409 and "street_admin" in r.json()["message"]
    case = act(client, case, "escalate", ADMIN, note="请加快处置")
    assert case["status"] == "dispatched" and case["escalated"] is True


def test_self_handled_on_the_spot_closes_the_case(client, street):
    case = report(client, category=POSTERS)
    case = act(client, case, "self_handle", WORKER, note="已当场清理")
    assert case["status"] == "closed" and case["closed_at"] is not None
    serious = report(client, category=ILLEGAL_BUILDING)
    r = client.post(
        f"/api/cases/{serious['id']}/actions/self_handle",
        json={"version": 1, "note": "拆了"},
        headers=bearer(client, WORKER),
    )
    assert r.status_code == 409 and "on the spot" in r.json()["message"]


def test_a_role_that_may_not_move_the_case_gets_409_with_the_allowed_moves(client, street):
    case = report(client)
    r = client.post(
        f"/api/cases/{case['id']}/actions/screen",
        json={"version": case["version"]},
        headers=bearer(client, WORKER),
    )
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "TransitionNotAllowed" and "grid_worker" in body["message"]
    assert set(body["allowed"]) == {"self_handle", "merge"}
    r = client.post(
        f"/api/cases/{case['id']}/actions/accept",
        json={"version": case["version"]},
        headers=bearer(client, handler("D01")),
    )
    assert r.status_code == 404  # not dispatched to D01: not theirs to see


def test_only_the_dispatched_unit_may_handle_the_case(client, street):
    case = dispatched(client, report(client))
    other = "D01" if case["unit_code"] != "D01" else "D02"
    r = client.post(
        f"/api/cases/{case['id']}/actions/accept",
        json={"version": case["version"]},
        headers=bearer(client, handler(other)),
    )
    assert r.status_code == 404


def test_a_stale_version_is_refused_not_overwritten(client, street):
    case = report(client)
    seen_by_both = case["version"]
    act(client, case, "screen", COMMUNITY)
    r = client.post(
        f"/api/cases/{case['id']}/actions/return",
        json={"version": seen_by_both, "reason": "x"},
        headers=bearer(client, COMMUNITY),
    )
    assert r.status_code == 409 and r.json()["error"] == "StaleVersion"
    assert r.json()["current_version"] == seen_by_both + 1
    assert client.get(f"/api/cases/{case['id']}").json()["status"] == "screened"


def test_moves_without_a_bearer_token_or_to_unknown_actions_are_refused(anonymous, street):
    client = anonymous
    case = report(client)
    r = client.post(f"/api/cases/{case['id']}/actions/screen", json={"version": 1})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.post(
        f"/api/cases/{case['id']}/actions/screen",
        json={"version": 1},
        headers={"Authorization": "Basic d2FuZzpwYXNzd29yZA=="},
    )
    assert r.status_code == 401
    r = client.post(
        f"/api/cases/{case['id']}/actions/fly", json={"version": 1}, headers=bearer(client, WORKER)
    )
    assert r.status_code == 422 and r.json()["field"] == "action"
    r = client.post(
        "/api/cases/99999999/actions/screen", json={"version": 1}, headers=bearer(client, COMMUNITY)
    )
    assert r.status_code == 404


def test_a_retried_post_with_the_same_idempotency_key_creates_one_case(client, street):
    body = {"lon": IN_WEST[0], "lat": IN_WEST[1], "category_code": GARBAGE, "description": "a"}
    key = {"Idempotency-Key": "phone-7f3a-000123", **bearer(client, WORKER)}
    first = client.post("/api/cases", json=body, headers=key)
    again = client.post("/api/cases", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["external_id"] == again.json()["external_id"]
    count = street.execute(sa.text("SELECT count(*) FROM cases WHERE description = 'a'"))
    assert count.scalar() == 1
    other = client.post("/api/cases", json={**body, "description": "b"}, headers=key)
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"


def test_merge_keeps_both_histories(client, street):
    kept = report(client)
    duplicate = report(client, at=(IN_WEST[0] + 0.0001, IN_WEST[1]))
    assert [d["id"] for d in duplicate["possible_duplicates"]] == [kept["id"]]
    merged = act(client, duplicate, "merge", COMMUNITY, into=kept["id"])
    assert merged["status"] == "merged" and merged["merged_into"] == kept["id"]
    kept_events = client.get(f"/api/cases/{kept['id']}/events").json()
    assert kept_events[-1]["action"] == "merged_in"
    assert kept_events[-1]["data"]["duplicate"] == duplicate["id"]
    assert client.get(f"/api/cases/{duplicate['id']}/events").json()[-1]["action"] == "merge"


def test_events_cannot_be_edited_or_deleted(client, street):
    case = report(client)
    with pytest.raises(sa.exc.DBAPIError, match="immutable"), street.begin_nested():
        street.execute(
            sa.text("UPDATE case_events SET note = 'x' WHERE case_id = :id"), {"id": case["id"]}
        )
    with pytest.raises(sa.exc.DBAPIError, match="immutable"), street.begin_nested():
        street.execute(sa.text("DELETE FROM case_events WHERE case_id = :id"), {"id": case["id"]})


def test_the_workflow_table_is_served(client):
    table = client.get("/api/workflow").json()
    actions = {a["action"]: a for a in table["actions"]}
    assert actions["verify"]["requires"] == ["verdict", "note"]
    assert actions["dispatch"]["moves"] == {"filed": "dispatched"}
    assert set(table["statuses"]) >= {"reported", "closed", "parked", "voided"}


def test_times_are_shown_in_beijing_time(client, street, clock):
    clock.set("2026-11-30T07:30:00+08:00")
    case = report(client)
    assert case["reported_at"].endswith("+08:00")
    assert datetime.fromisoformat(case["reported_at"]).astimezone(TIME_ZONE).hour == 7


def test_an_unknown_status_filter_is_refused_not_answered_empty(client, street):
    r = client.get("/api/cases", params={"status": "closd"})
    assert r.status_code == 422 and r.json()["field"] == "status"
    report(client)
    listed = client.get("/api/cases", params={"status": "reported"}).json()["features"]
    assert len(listed) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("satisfaction", True),
        ("satisfaction", "5"),
        ("satisfaction", 4.0),
        ("version", True),
        ("report_valid", "yes"),
        ("into", True),
        ("note", "a\u0000b"),
    ],
)
def test_loosely_typed_fields_are_refused_not_coerced(client, street, field, value):
    case = report(client)
    body = {"version": case["version"], "note": "n", field: value}
    r = client.post(
        f"/api/cases/{case['id']}/actions/self_handle", json=body, headers=bearer(client, WORKER)
    )
    assert r.status_code == 422, r.text
    assert field in r.json()["field"]
    assert client.get(f"/api/cases/{case['id']}").json()["version"] == case["version"]


def test_a_category_text_that_contradicts_the_code_is_refused(client, street):
    body = {"lon": IN_WEST[0], "lat": IN_WEST[1], "category_code": GARBAGE, "category": "火灾"}
    r = client.post("/api/cases", json=body, headers=bearer(client, WORKER))
    assert r.status_code == 422 and r.json()["field"] == "category"


def test_the_same_idempotency_key_from_another_reporter_is_not_a_replay(client, street):
    body = {"lon": IN_WEST[0], "lat": IN_WEST[1], "category_code": GARBAGE}
    key = {"Idempotency-Key": "shared-key-0001"}
    assert (
        client.post("/api/cases", json=body, headers={**key, **bearer(client, WORKER)}).status_code
        == 201
    )
    other = client.post("/api/cases", json=body, headers={**key, **bearer(client, COMMUNITY)})
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"


def test_extension_moves_are_offered_only_when_they_can_be_made(client, street):
    case = dispatched(client, report(client))
    assert "request_extension" in case["allowed_actions"]
    assert "approve_extension" not in case["allowed_actions"]
    unit = case["unit_code"]
    case = act(client, case, "request_extension", handler(unit), reason="r", extension="1wd")
    assert "approve_extension" in case["allowed_actions"]
    assert "request_extension" not in case["allowed_actions"]


def test_deadline_watch_reads_as_of_like_indicators_and_refuses_nonsense(client, street):
    assert client.get("/api/deadlines", params={"as_of": "2026-01-01"}).status_code == 200
    for bad in ("9999-12-31T23:59:59Z", "yesterday"):
        r = client.get("/api/deadlines", params={"as_of": bad})
        assert r.status_code == 422 and r.json()["field"] == "as_of"


def test_only_a_report_of_the_same_kind_can_be_merged(client, street):
    kept = report(client)
    other_kind = report(client, category=POSTERS)
    r = client.post(
        f"/api/cases/{other_kind['id']}/actions/merge",
        json={"version": other_kind["version"], "into": kept["id"]},
        headers=bearer(client, COMMUNITY),
    )
    assert r.status_code == 409 and r.json()["field"] == "into"


def test_unreadable_bodies_name_the_body(client):
    r = client.post(
        "/api/cases", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["field"] == "body"


def test_a_lone_surrogate_is_refused_naming_the_field(client, street):
    body = b'{"lon": 113.606, "lat": 34.77, "description": "\\ud800"}'
    r = client.post("/api/cases", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "description"


def test_a_category_named_exactly_like_a_type_gets_its_code_and_limits(client, street):
    r = client.post(
        "/api/cases",
        json={
            "lon": IN_WEST[0],
            "lat": IN_WEST[1],
            "category": " 暴露垃圾 ",
            "external_id": " E-1 ",
        },
        headers=bearer(client, DISPATCHER),
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["category"], case["category_code"]) == ("暴露垃圾", GARBAGE)
    assert case["external_id"] == "E-1"
    again = client.post(
        "/api/cases",
        json={"lon": IN_WEST[0], "lat": IN_WEST[1], "external_id": "E-1", "description": "x"},
    )
    assert again.status_code == 409
    # Not from a grid worker: "already exists" would reveal cases outside their grid.
    body = {"lon": IN_WEST[0], "lat": IN_WEST[1], "external_id": "E-1", "description": "x"}
    r = client.post("/api/cases", json=body, headers=bearer(client, WORKER))
    assert r.status_code == 403 and r.json()["field"] == "external_id"


def test_a_misspelt_field_of_an_action_is_refused_not_lost(client, street):
    case = report(client)
    r = client.post(
        f"/api/cases/{case['id']}/actions/screen",
        json={"version": case["version"], "nots": "the note, misspelt"},
        headers=bearer(client, community_of(case)),
    )
    assert r.status_code == 422 and r.json()["field"] == "nots"
    assert client.get(f"/api/cases/{case['id']}").json()["version"] == case["version"]
