"""An upload is read only once its sender has been checked: without an account, or with an
unknown follow token, not a byte of the file is taken in; a form may carry one file."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.cases.test_attachments_api import JPEG
from tests.cases.test_workflow_api import DISPATCHER, IN_COURTYARD, WORKER, report
from tests.cases.test_workflow_api import street as street  # noqa: F401 - fixture
from tests.helpers import bearer

BOUNDARY = "onegrid-test-boundary"
PIECE = b"x" * 65536


def post_raw(app, path: str, pieces: int, headers=()):
    """POST a multipart body in `pieces` messages straight to the ASGI app; the answer's
    status and how many of the pieces the app asked for."""
    to_send = [
        {"type": "http.request", "body": PIECE, "more_body": i < pieces - 1} for i in range(pieces)
    ]
    taken = 0
    statuses = []

    async def receive():
        nonlocal taken
        if not to_send:
            await asyncio.sleep(3600)  # a client that keeps the connection open
        taken += 1
        return to_send.pop(0)

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "client": ("203.0.113.9", 50000),
        "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            *headers,
        ],
    }
    # In a thread of its own: the test client's event loop runs in another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result(timeout=60)
    return statuses, taken


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/cases/1/attachments", 401), ("/api/reports/not-a-token-at-all/attachments", 404)],
)
def test_an_upload_from_someone_unchecked_is_refused_before_its_body_is_read(
    anonymous, path, status
):
    statuses, taken = post_raw(anonymous.app, path, pieces=160)  # 10 MB on the way
    assert statuses == [status]
    assert taken == 0


def test_an_upload_with_a_wrong_token_is_refused_before_its_body_is_read(anonymous):
    statuses, taken = post_raw(
        anonymous.app,
        "/api/cases/1/attachments",
        pieces=160,
        headers=[(b"authorization", b"Bearer forged.token.here")],
    )
    assert statuses == [401] and taken == 0


def test_an_upload_to_a_case_one_does_not_see_is_refused_before_its_body_is_read(client, street):
    east = report(client, at=IN_COURTYARD, headers=DISPATCHER)  # C2; the worker is C1-01
    token = bearer(client, WORKER)["Authorization"].encode()
    for case_id in (east["id"], 999999):
        statuses, taken = post_raw(
            client.app,
            f"/api/cases/{case_id}/attachments",
            pieces=160,
            headers=[(b"authorization", token)],
        )
        assert statuses == [404] and taken == 0, case_id


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            out += b"Content-Type: image/jpeg\r\n"
        out += b"\r\n" + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_a_form_carries_one_file_named_file(client, street):
    path = f"/api/cases/{report(client)['id']}/attachments"
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    two = multipart(("file", "a.jpg", JPEG), ("file", "b.jpg", JPEG))
    r = client.post(path, content=two, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "file"
    assert "Too many files" in r.json()["message"]

    other_name = multipart(("photo", "a.jpg", JPEG))
    r = client.post(path, content=other_name, headers=headers)
    assert r.status_code == 422 and "'file'" in r.json()["message"]

    r = client.post(path, json={"file": "not a form"})
    assert r.status_code == 422 and r.json()["field"] == "file"

    with_note = multipart(("note", None, "门口".encode()), ("file", "a.jpg", JPEG))
    r = client.post(path, content=with_note, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "a.jpg"
