"""Photos and files on cases and events: checked by content, stored by checksum."""

from __future__ import annotations

import hashlib

from tests.cases.test_workflow_api import (
    COMMUNITY,
    DISPATCHER,
    POSTERS,
    WORKER,
    act,
    handler,
    report,
)
from tests.cases.test_workflow_api import street as street  # noqa: F401 - fixture
from tests.helpers import bearer

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def upload(client, case_id, content, name="photo.jpg", kind="image/jpeg", headers=WORKER):
    return client.post(
        f"/api/cases/{case_id}/attachments",
        files={"file": (name, content, kind)},
        headers=bearer(client, headers),
    )


def test_a_photo_is_stored_with_its_checksum_and_served_back_with_its_type(client, street):
    case = report(client)
    r = upload(client, case["id"], JPEG, name="现场照片.jpg")
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert (stored["content_type"], stored["size_bytes"]) == ("image/jpeg", len(JPEG))
    assert stored["uploaded_by"] == "wangfang" and stored["event_id"] is None
    got = client.get(f"/api/attachments/{stored['id']}")
    assert got.status_code == 200 and got.content == JPEG
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "filename*=UTF-8''%E7%8E%B0" in got.headers["content-disposition"]


def test_a_vague_declared_type_is_replaced_by_the_detected_one(client, street):
    case = report(client)
    r = upload(client, case["id"], PDF, name="整改报告", kind="application/octet-stream")
    assert r.status_code == 201 and r.json()["content_type"] == "application/pdf"


def test_wrong_types_empty_files_and_lies_are_refused_naming_the_file(client, street):
    case = report(client)
    r = upload(client, case["id"], b"MZ\x90\x00 not a photo", name="virus.exe")
    assert (
        r.status_code == 422 and r.json()["field"] == "file" and "virus.exe" in r.json()["message"]
    )
    r = upload(client, case["id"], b"", name="empty.jpg")
    assert r.status_code == 422 and "empty" in r.json()["message"]
    r = upload(client, case["id"], PDF, name="x.png", kind="image/png")
    assert r.status_code == 422 and "declared as image/png" in r.json()["message"]
    assert client.get(f"/api/cases/{case['id']}/attachments").json() == []


def test_a_photo_of_exactly_the_limit_fits_and_one_far_over_gets_413(client, street, settings):
    case = report(client)
    exact = JPEG + bytes(settings.max_upload_bytes - len(JPEG))
    r = upload(client, case["id"], exact)
    assert r.status_code == 201 and r.json()["size_bytes"] == settings.max_upload_bytes
    one_more = exact + b"\x00"
    r = upload(client, case["id"], one_more)
    assert r.status_code == 422 and "over the limit of" in r.json()["message"]
    far_over = JPEG + bytes(2 * settings.max_upload_bytes)
    assert upload(client, case["id"], far_over).status_code == 413


def test_an_attachment_on_an_unknown_case_is_404(client, street):
    assert upload(client, 987654321, JPEG).status_code == 404
    assert client.get("/api/attachments/987654321").status_code == 404


def test_report_back_with_a_photo_puts_it_on_the_event(client, street):
    case = report(client)
    case = act(client, case, "screen", COMMUNITY)
    case = act(client, case, "file", DISPATCHER)
    case = act(client, case, "dispatch", DISPATCHER)
    unit = case["unit_code"]
    case = act(client, case, "accept", handler(unit))
    photo = upload(client, case["id"], JPEG, headers=handler(unit)).json()
    case = act(client, case, "report_back", handler(unit), attachments=[photo["id"]])
    assert case["status"] == "reported_back"  # a photo alone is enough to report back
    events = client.get(f"/api/cases/{case['id']}/events").json()
    assert events[-1]["attachments"] == [photo["id"]]
    listed = client.get(f"/api/cases/{case['id']}/attachments").json()
    assert listed[0]["event_id"] == events[-1]["id"]


def test_an_attachment_of_another_case_cannot_be_put_on_an_event(client, street):
    mine = report(client, category=POSTERS)  # a grid worker may self-handle these
    other = report(client, at=(113.615, 34.77))
    foreign = upload(client, other["id"], JPEG).json()
    r = client.post(
        f"/api/cases/{mine['id']}/actions/self_handle",
        json={"version": mine["version"], "attachments": [foreign["id"]]},
        headers=bearer(client, WORKER),
    )
    assert r.status_code == 422 and r.json()["field"] == "attachments"
    assert client.get(f"/api/cases/{mine['id']}").json()["status"] == "reported"
