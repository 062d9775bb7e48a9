"""Resident reports (居民上报): no account, rate-limited, validated, and a follow token that
reads back the one case it was given for and nothing else."""

from __future__ import annotations

import hashlib
import ipaddress

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.cases.test_attachments_api import JPEG
from tests.cases.test_workflow_api import (
    ADMIN,
    COMMUNITY,
    DISPATCHER,
    GARBAGE,
    IN_WEST,
    RESIDENT,
    WORKER,
    act,
    handler,
)
from tests.cases.test_workflow_api import street as street  # noqa: F401 - fixture
from tests.helpers import bearer

from onegrid.api.ratelimit import RateLimiter, client_key
from onegrid.reports.service import MAX_ATTACHMENTS

PUBLIC_ANSWER = {
    "follow_token",
    "follow_url",
    "reference",
    "status",
    "status_name",
    "reported_at",
    "grid",
}
PUBLIC_VIEW = {
    "reference",
    "category",
    "description",
    "location_note",
    "status",
    "status_name",
    "reported_at",
    "grid",
    "steps",
    "closed",
    "may_evaluate",
    "may_resubmit",
    "satisfaction",
    "attachments",
    "may_add_attachments",
}


def send(client, **fields):
    body = {
        "lon": IN_WEST[0],
        "lat": IN_WEST[1],
        "category_code": GARBAGE,
        "description": "楼下垃圾堆了三天",
        **fields,
    }
    return client.post("/api/reports", json=body)


def reported(client, **fields) -> dict:
    r = send(client, **fields)
    assert r.status_code == 201, r.text
    return r.json()


def stored(session, reference: str) -> dict:
    row = session.execute(
        sa.text("SELECT * FROM cases WHERE external_id = :ref"), {"ref": reference}
    ).one()
    return dict(row._mapping)


def staff_view(client, session, reference: str) -> dict:
    """The case as the street office sees it, to move it on as staff."""
    case_id = stored(session, reference)["id"]
    r = client.get(f"/api/cases/{case_id}", headers=bearer(client, ADMIN))
    assert r.status_code == 200, r.text
    return r.json()


def closed_by_staff(client, session, reference: str) -> dict:
    case = staff_view(client, session, reference)
    case = act(client, case, "screen", COMMUNITY)
    case = act(client, case, "file", DISPATCHER)
    case = act(client, case, "dispatch", DISPATCHER)
    unit = case["unit_code"]
    case = act(client, case, "accept", handler(unit))
    case = act(client, case, "report_back", handler(unit), note="已清运")
    case = act(client, case, "verify", WORKER, verdict="passed", note="现场已清理")
    return act(client, case, "close", DISPATCHER)


def case_count(session) -> int:
    return session.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()


def upload(client, token, content=JPEG, name="photo.jpg", kind="image/jpeg"):
    return client.post(f"/api/reports/{token}/attachments", files={"file": (name, content, kind)})


# --- reporting and following ---------------------------------------------------------------


def test_a_report_without_an_account_is_stored_as_a_resident_report_and_read_back_by_token(
    anonymous, street, clock
):
    clock.set("2026-12-03T10:00:00+08:00")
    created = reported(anonymous, location_note=" 3号楼东侧 ", description="  楼下垃圾堆了三天 ")
    assert set(created) == PUBLIC_ANSWER
    token = created["follow_token"]
    assert len(token) >= 40 and created["follow_url"] == f"/api/reports/{token}"
    assert created["status"] == "reported" and created["status_name"].startswith("已上报")
    assert created["reported_at"] == "2026-12-03T10:00:00+08:00"  # the server's clock
    assert created["grid"] == {"community": "grid C1", "grid": "grid C1-01"}

    row = stored(street, created["reference"])
    assert row["source"] == "resident_wechat" and row["reporter_user_id"] is None
    assert (row["description"], row["location_note"]) == ("楼下垃圾堆了三天", "3号楼东侧")
    # Only the token's digest is kept.
    assert row["follow_token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)

    r = anonymous.get(created["follow_url"])
    assert r.status_code == 200, r.text
    view = r.json()
    assert set(view) == PUBLIC_VIEW
    assert view["reference"] == created["reference"]
    assert (view["category"], view["description"]) == ("暴露垃圾", "楼下垃圾堆了三天")
    assert [(s["action"], s["action_name"], s["status"]) for s in view["steps"]] == [
        ("report", "上报", "reported")
    ]
    assert view["steps"][0]["at"] == "2026-12-03T10:00:00+08:00"
    assert (view["closed"], view["may_evaluate"], view["may_add_attachments"]) == (
        False,
        False,
        True,
    )


def test_a_token_reads_only_the_case_it_was_given_for(anonymous, street):
    first = reported(anonymous, description="路灯不亮")
    second = reported(anonymous, description="井盖缺失")
    assert anonymous.get(first["follow_url"]).json()["description"] == "路灯不亮"
    assert anonymous.get(second["follow_url"]).json()["description"] == "井盖缺失"

    case_id = stored(street, first["reference"])["id"]
    token = first["follow_token"]
    unknown = [
        "made-up-token",
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        str(case_id),  # a case id is not a token
        first["reference"],  # nor is the public reference
        hashlib.sha256(token.encode()).hexdigest(),  # nor the stored digest
    ]
    answers = [anonymous.get(f"/api/reports/{t}") for t in unknown]
    assert {r.status_code for r in answers} == {404}
    # The same words for every unknown token: nothing tells whether a case exists.
    assert all(r.json() == answers[0].json() for r in answers)
    assert answers[0].json()["message"] == "no report with this follow token"
    assert upload(anonymous, "made-up-token").json() == answers[0].json()


def test_staff_names_notes_and_internal_fields_never_reach_the_resident(anonymous, street):
    created = reported(anonymous)
    case = staff_view(anonymous, street, created["reference"])
    case = act(anonymous, case, "screen", COMMUNITY)
    case = act(anonymous, case, "file", DISPATCHER)
    case = act(anonymous, case, "dispatch", DISPATCHER)
    unit = case["unit_code"]
    case = act(anonymous, case, "escalate", ADMIN, note="督办：领导批示尽快处理")
    case = act(anonymous, case, "accept", handler(unit))
    act(anonymous, case, "report_back", handler(unit), note="内部备注：垃圾已清运")

    r = anonymous.get(created["follow_url"])
    assert r.status_code == 200
    view = r.json()
    assert set(view) == PUBLIC_VIEW
    # Moves that changed the status, with their names; the escalation is staff work.
    assert [(s["action"], s["status"]) for s in view["steps"]] == [
        ("report", "reported"),
        ("screen", "screened"),
        ("file", "filed"),
        ("dispatch", "dispatched"),
        ("accept", "handling"),
        ("report_back", "reported_back"),
    ]
    assert [s["action_name"] for s in view["steps"]][1:3] == ["社区汇总", "立案"]
    assert all(
        set(s) == {"action", "action_name", "status", "status_name", "at", "reason"}
        and s["reason"] is None  # a reason only for a return, which asks the resident
        for s in view["steps"]
    )
    for secret in ("liqiang", "zhaomin", "director", "handler-", unit, "督办：", "内部备注"):
        assert secret not in r.text, secret
    for internal in ("unit_code", "dispatch_rule", "lon", "possible_duplicates", "actor"):
        assert f'"{internal}"' not in r.text, internal


def test_a_returned_report_shows_why_and_the_resident_sends_it_again(anonymous, street):
    created = reported(anonymous)
    url = created["follow_url"]
    early = anonymous.post(url + "/resubmit", json={"note": "补充"})
    assert early.status_code == 409 and early.json()["field"] == "note"  # not returned
    case = staff_view(anonymous, street, created["reference"])
    act(anonymous, case, "return", COMMUNITY, reason="请补充具体楼栋号和照片")

    view = anonymous.get(url).json()
    assert view["status"] == "returned" and view["may_resubmit"]
    returned = view["steps"][-1]
    assert (returned["action"], returned["reason"]) == ("return", "请补充具体楼栋号和照片")

    r = anonymous.post(url + "/resubmit", json={"note": "3号楼东侧单元门口"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["may_resubmit"]) == ("reported", False)
    events = anonymous.get(
        f"/api/cases/{case['id']}/events", headers=bearer(anonymous, ADMIN)
    ).json()
    assert (events[-1]["action"], events[-1]["note"]) == ("resubmit", "3号楼东侧单元门口")
    again = anonymous.post(url + "/resubmit", json={"note": "再次"})
    assert again.status_code == 409
    assert anonymous.post(url + "/resubmit", json={"note": ""}).status_code == 422


def test_a_signed_in_residents_report_is_linked_to_their_account(client, street):
    r = client.post(
        "/api/reports",
        json={"lon": IN_WEST[0], "lat": IN_WEST[1], "description": "树枝挡路"},
        headers=bearer(client, RESIDENT),
    )
    assert r.status_code == 201, r.text
    row = stored(street, r.json()["reference"])
    user_id = street.execute(
        sa.text("SELECT id FROM users WHERE username = 'resident-138'")
    ).scalar_one()
    assert (row["reporter_user_id"], row["reporter"]) == (user_id, "resident-138")
    assert row["follow_token_sha256"] is not None  # followed by the token as well


def test_staff_report_through_their_own_endpoint_not_the_residents_channel(client, street):
    r = client.post(
        "/api/reports",
        json={"lon": IN_WEST[0], "lat": IN_WEST[1], "description": "x"},
        headers=bearer(client, WORKER),
    )
    assert r.status_code == 403 and "POST /api/cases" in r.json()["message"]
    assert case_count(street) == 0


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": None}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"location_note": "x" * 201}, "location_note"),
        ({"lon": "113.606"}, "lon"),
        ({"lat": True}, "lat"),
        ({"lat": 95.0}, "lat"),
        ({"lon": 116.40, "lat": 39.90}, "lon"),  # Beijing: hundreds of km from every grid
        ({"crs": "EPSG:99999"}, "crs"),
        ({"category_code": "99999"}, "category_code"),
        ({"description": "a\x00b"}, "description"),
        ({"source": "hotline_12345"}, "source"),
        ({"reported_at": "2020-01-01T00:00:00+08:00"}, "reported_at"),
        ({"external_id": "MINE-1"}, "external_id"),
        ({"urgent": True}, "urgent"),
    ],
)
def test_every_bad_field_is_named_and_nothing_is_stored(anonymous, street, change, field):
    body = {"lon": IN_WEST[0], "lat": IN_WEST[1], "description": "楼下垃圾", **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = anonymous.post("/api/reports", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert case_count(street) == 0


# --- photos and the rating -----------------------------------------------------------------


def test_photos_via_the_token_are_limited_in_number_and_refused_after_closure(anonymous, street):
    created = reported(anonymous)
    token = created["follow_token"]
    r = upload(anonymous, token, b"MZ\x90\x00 not a photo", name="virus.exe")
    assert r.status_code == 422 and r.json()["field"] == "file"
    for n in range(1, MAX_ATTACHMENTS + 1):
        r = upload(anonymous, token, name=f"现场{n}.jpg")
        assert r.status_code == 201, r.text
        assert r.json() == {
            "filename": f"现场{n}.jpg",
            "content_type": "image/jpeg",
            "size_bytes": len(JPEG),
            "attachments": n,
        }
    r = upload(anonymous, token)
    assert r.status_code == 409 and r.json()["field"] == "file"
    view = anonymous.get(created["follow_url"]).json()
    assert (view["attachments"], view["may_add_attachments"]) == (MAX_ATTACHMENTS, False)
    uploaded = street.execute(
        sa.text("SELECT DISTINCT uploaded_by FROM attachments WHERE case_id = :id"),
        {"id": stored(street, created["reference"])["id"]},
    ).scalars()
    assert list(uploaded) == ["resident"]

    other = reported(anonymous)
    closed_by_staff(anonymous, street, other["reference"])
    r = upload(anonymous, other["follow_token"])
    assert r.status_code == 409 and "已结案" in r.json()["message"]


def test_a_resident_rates_a_closed_case_once_through_the_workflow(anonymous, street):
    created = reported(anonymous)
    rating = f"{created['follow_url']}/evaluation"
    r = anonymous.post(rating, json={"satisfaction": 5})
    assert r.status_code == 409 and "closed" in r.json()["message"]  # not yet

    closed_by_staff(anonymous, street, created["reference"])
    view = anonymous.get(created["follow_url"]).json()
    assert (view["status"], view["closed"], view["may_evaluate"]) == ("closed", True, True)
    assert view["may_add_attachments"] is False

    for bad, field in (
        ({"satisfaction": 6}, "satisfaction"),
        ({"satisfaction": "5"}, "satisfaction"),
        ({"satisfaction": 4, "version": 9}, "version"),  # the server knows the version
    ):
        r = anonymous.post(rating, json=bad)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    r = anonymous.post(rating, json={"satisfaction": 4, "note": "处理很快"})
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["status"], view["satisfaction"], view["may_evaluate"]) == ("evaluated", 4, False)
    assert view["steps"][-1]["action"] == "evaluate" and view["steps"][-1]["action_name"] == "评价"

    r = anonymous.post(rating, json={"satisfaction": 1})
    assert r.status_code == 409 and "already" in r.json()["message"]
    staff = staff_view(anonymous, street, created["reference"])
    assert (staff["status"], staff["satisfaction"]) == ("evaluated", 4)
    events = anonymous.get(
        f"/api/cases/{staff['id']}/events", headers=bearer(anonymous, ADMIN)
    ).json()
    assert (events[-1]["actor"], events[-1]["role"], events[-1]["note"]) == (
        "resident",
        "resident",
        "处理很快",
    )


# --- rate limits --------------------------------------------------------------------------


def test_too_many_reports_from_one_client_get_429_and_other_clients_are_not_affected(
    anonymous, street
):
    limit = anonymous.app.state.settings.report_rate_per_hour
    for _ in range(limit):
        reported(anonymous)
    r = send(anonymous)
    assert r.status_code == 429
    wait = int(r.headers["retry-after"])
    assert 0 < wait <= 3600
    assert r.json()["error"] == "TooManyRequests" and r.json()["retry_after_s"] == wait
    assert case_count(street) == limit  # the refused one is not stored

    neighbour = TestClient(anonymous.app, client=("10.0.0.2", 123))
    assert send(neighbour).status_code == 201
    # Following a report is limited separately: the reporter can still read theirs.
    assert anonymous.get("/api/reports/made-up").status_code == 404


def test_a_residents_mistakes_on_the_form_do_not_use_up_their_reports(anonymous, street):
    limit = anonymous.app.state.settings.report_rate_per_hour
    for _ in range(limit + 5):
        assert send(anonymous, description="").status_code == 422
    assert send(anonymous).status_code == 201


def test_guessing_tokens_is_slowed_down_per_client(anonymous, street):
    limit = anonymous.app.state.settings.report_reads_per_minute
    for i in range(limit):
        assert anonymous.get(f"/api/reports/guess-{i}").status_code == 404
    for refused in (
        anonymous.get("/api/reports/guess-again"),
        anonymous.post("/api/reports/guess/evaluation", json={"satisfaction": 5}),
        upload(anonymous, "guess"),
    ):
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    neighbour = TestClient(anonymous.app, client=("10.0.0.3", 123))
    assert neighbour.get("/api/reports/guess-again").status_code == 404


def test_the_limiter_refills_forgets_quiet_clients_and_stays_bounded():
    now = [0.0]
    limiter = RateLimiter(3, 60, max_keys=5, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    assert limiter.hit("a") == 20  # one request comes back every 60 / 3 s
    now[0] = 20.0
    assert limiter.hit("a") is None and limiter.hit("a") == 20
    assert limiter.hit("b") is None
    for i in range(10):
        limiter.hit(f"client-{i}")
    assert len(limiter) == 5  # the longest quiet are dropped first
    now[0] = 1000.0
    assert limiter.hit("a") is None and len(limiter) == 1  # full buckets are forgotten


def test_x_forwarded_for_counts_only_from_a_trusted_proxy():
    proxies = [ipaddress.ip_network("10.0.0.0/8")]
    assert client_key("10.1.2.3", "6.6.6.6, 203.0.113.7", proxies) == "203.0.113.7"
    # Anyone else's header is ignored: a client may not choose its own key.
    assert client_key("198.51.100.1", "203.0.113.7", proxies) == "198.51.100.1"
    assert client_key("10.1.2.3", "not an address", proxies) == "10.1.2.3"
    assert client_key("10.1.2.3", None, []) == "10.1.2.3"
    # One IPv6 subscriber gets a /64: it counts as one client.
    assert client_key("2001:db8:1:2::5", None, []) == client_key("2001:db8:1:2:ffff::9", None, [])
    assert client_key("2001:db8:1:2::5", None, []) == "2001:db8:1:2::/64"
    assert client_key("::ffff:198.51.100.1", None, []) == "198.51.100.1"
    assert client_key("testclient", None, proxies) == "testclient"


def test_a_trusted_proxy_setting_must_name_addresses():
    from onegrid.settings import Settings

    with pytest.raises(ValueError, match="proxy.example"):
        Settings(report_trusted_proxies=["proxy.example"])
    assert Settings(report_trusted_proxies=["127.0.0.1", "10.0.0.0/8"]).report_trusted_proxies
