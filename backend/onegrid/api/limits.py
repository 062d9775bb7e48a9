"""A request body limit that also holds for chunked uploads (no Content-Length to trust), a
refusal of NUL characters in URLs, and the security headers of pages and answers."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Photos and files go to these paths only; every other body is a few hundred bytes.
MULTIPART_OVERHEAD = 64 * 1024
# A body that stops coming holds a connection and a worker's buffers: after this long
# without a byte the client gets 408. A phone on a slow link still sends something every
# few seconds.
BODY_IDLE_TIMEOUT_S = 30.0
# ... and a body trickled a byte at a time must still end: a 10 MB photo at 3G speed takes
# under two minutes.
BODY_DEADLINE_S = 300.0
UPLOAD_PATH = re.compile(r"^/api/(cases/\d+|reports/[^/]+)/attachments$")


class BodySizeLimit:
    """Counts a request body as the app reads it; past the limit the client gets 413, and a
    body that stalls for `idle_timeout_s` gets 408; either way the app sees the client go
    away. Nothing is held here: the upload routes read their file only once the sender has
    been checked (api/uploads.py), and the form parser spools it to disk."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_max_bytes: int | None = None,
        idle_timeout_s: float = BODY_IDLE_TIMEOUT_S,
        deadline_s: float = BODY_DEADLINE_S,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.idle_timeout_s = idle_timeout_s
        self.deadline_s = deadline_s
        # The multipart envelope (boundaries, part headers) comes on top of the file itself.
        self.upload_max_bytes = (upload_max_bytes or max_bytes) + MULTIPART_OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.upload_max_bytes if UPLOAD_PATH.match(scope["path"]) else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)  # said up front: refused before a byte is read
            return
        received = 0
        body_done = refused = answered = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline_s

        async def counted() -> Message:
            nonlocal received, body_done, refused
            if refused:
                return {"type": "http.disconnect"}
            if body_done:  # the app waits for a disconnect while it answers: no deadline
                return await receive()
            left = deadline - loop.time()
            try:
                message = await asyncio.wait_for(receive(), min(self.idle_timeout_s, left))
            except TimeoutError:
                refused = True
                if not answered:
                    reason = (
                        f"the request body did not arrive within {self.deadline_s:g} s"
                        if left <= self.idle_timeout_s
                        else f"no request body for {self.idle_timeout_s:g} s"
                    )
                    await _answer(send, 408, reason)
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > limit:
                    refused = True
                    if not answered:
                        await self._refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            nonlocal answered
            if not refused:  # the 413 or 408 is the answer; what the app says after is dropped
                answered = True
                await send(message)

        await self.app(scope, counted, unless_refused)

    async def _refuse(self, send: Send, limit: int) -> None:
        await _answer(send, 413, f"request body over {limit} bytes")


async def _answer(send: Send, status: int, message: str, field: str = "body") -> None:
    payload: dict[str, Any] = {"error": "InvalidInput", "message": message, "field": field}
    data = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class NulInUrl:
    """A NUL character in the path or a query value can never name anything stored
    (PostgreSQL text cannot hold it): 422 naming the parameter, before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _nul_in(scope)
            if where is not None:
                await _answer(send, 422, f"{where} contains a NUL character (%00)", field=where)
                return
        await self.app(scope, receive, send)


def _nul_in(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and "\x00" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return None


# The map page loads only its own scripts and styles (Leaflet sets inline styles on tiles and
# markers); tiles may come from whatever server the configured tile URL names. /docs is
# left without a CSP: FastAPI's Swagger UI comes from a CDN.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data: blob: https: http:; connect-src 'self'; frame-ancestors 'none';"
    " base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Headers that keep pages from being framed, sniffed or fed foreign scripts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with_policy = not scope["path"].startswith(("/docs", "/redoc"))

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                if with_policy:
                    extra.append((b"content-security-policy", PAGE_POLICY.encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, add_headers)
