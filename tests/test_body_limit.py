"""The body limit streams: an upload reaches the app piece by piece, never held whole in
memory before anyone has checked who sends it (16 parallel 10 MB uploads without an account
once grew the server by 600 MB)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from onegrid.api.limits import BodySizeLimit

PIECE = b"x" * 65536


def run(middleware_limit: int, pieces: int, headers=()):
    sent, seen_by_app = [], []
    to_send = [
        {"type": "http.request", "body": PIECE, "more_body": i < pieces - 1} for i in range(pieces)
    ]

    async def receive():
        return to_send.pop(0) if to_send else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen_by_app.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/cases/1/attachments",
        "headers": list(headers),
    }
    limiter = BodySizeLimit(app, max_bytes=1000, upload_max_bytes=middleware_limit)
    # In a thread of its own: browser tests may leave an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, limiter(scope, receive, send)).result()
    return sent, seen_by_app, to_send


def test_an_upload_reaches_the_app_as_it_arrives():
    sent, seen, _ = run(middleware_limit=10 * len(PIECE), pieces=5)
    assert [len(m["body"]) for m in seen] == [len(PIECE)] * 5  # never joined into one buffer
    assert sent[0]["status"] == 200


def test_past_the_limit_the_client_gets_413_and_the_app_sees_it_leave():
    sent, seen, _ = run(middleware_limit=len(PIECE), pieces=200)  # + 64 KiB for the envelope
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]
    assert seen[-1]["type"] == "http.disconnect" and len(seen) == 3


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    sent, seen, unread = run(
        middleware_limit=len(PIECE), pieces=200, headers=[(b"content-length", b"13107200")]
    )
    assert sent[0]["status"] == 413 and seen == [] and len(unread) == 200


def stalled(idle_timeout_s: float, pieces_then_stall: int, app_waits_after_body: bool = False):
    """A client that sends some pieces of a body and then nothing."""
    sent, seen_by_app = [], []
    to_send = [
        {
            "type": "http.request",
            "body": PIECE,
            "more_body": i < pieces_then_stall - 1 or not app_waits_after_body,
        }
        for i in range(pieces_then_stall)
    ]

    async def receive():
        if not to_send:
            await asyncio.sleep(3600)
        return to_send.pop(0)

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen_by_app.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if app_waits_after_body:  # as a streaming answer listens for the client leaving
            await asyncio.wait_for(receive(), 0.5)

    scope = {"type": "http", "method": "POST", "path": "/api/reports", "headers": []}
    limiter = BodySizeLimit(app, max_bytes=10**9, idle_timeout_s=idle_timeout_s)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(asyncio.run, limiter(scope, receive, send))
        error = future.exception(timeout=30)
    return sent, seen_by_app, error


def test_a_body_that_stops_coming_gets_408_and_the_app_sees_the_client_leave():
    sent, seen, error = stalled(idle_timeout_s=0.2, pieces_then_stall=3)
    assert error is None
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [408]
    assert len(seen) == 4 and seen[-1]["type"] == "http.disconnect"


def test_once_the_body_is_in_the_app_may_wait_on_the_client_without_a_deadline():
    sent, seen, error = stalled(idle_timeout_s=0.1, pieces_then_stall=2, app_waits_after_body=True)
    # The app's own wait (0.5 s) runs out, not the body deadline (0.1 s): no 408.
    assert isinstance(error, TimeoutError)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200]


def test_a_body_trickled_slower_than_the_idle_limit_still_ends_at_the_deadline():
    sent, seen_by_app = [], []

    async def receive():  # a byte every 0.05 s: never idle for 0.2 s, never done
        await asyncio.sleep(0.05)
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen_by_app.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

    scope = {"type": "http", "method": "POST", "path": "/api/reports", "headers": []}
    limiter = BodySizeLimit(app, max_bytes=10**9, idle_timeout_s=0.2, deadline_s=0.6)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, limiter(scope, receive, send)).result(timeout=30)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [408]
    assert b"within 0.6 s" in sent[1]["body"]
    assert seen_by_app[-1]["type"] == "http.disconnect" and 5 <= len(seen_by_app) <= 14
