"""What every request passes before the application sees it: a pure ASGI middleware.

It runs before FastAPI reads anything, so that a client without a valid token cannot
make the server buffer a body: the token is checked from the headers alone (401), a
declared ``Content-Length`` over the cap is refused (413), and a body sent without one
(chunked) is read here, and refused as soon as it passes the cap. A response
sent without reading the body makes the server close the connection instead of
draining it. Failed authentications are counted per client address; past
``FAILED_AUTH_LIMIT`` in ``FAILED_AUTH_WINDOW`` seconds that address gets 429 — for every
request, valid token or not, or a guess that happened to be right would still show.
Every response carries the headers of ``SECURITY_HEADERS``.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from ledger.api.auth import Tokens

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The largest request body accepted, from an authenticated client only: room for a
#: batch of events, far from what would strain the server's memory.
MAX_BODY_BYTES = 1024 * 1024
FAILED_AUTH_LIMIT = 10
FAILED_AUTH_WINDOW = 60.0
#: How many client addresses are remembered at most (the oldest are forgotten first).
TRACKED_CLIENTS = 10_000

#: Paths answered without a token (GET only): nothing personal, nothing per ledger.
PUBLIC_PATHS = frozenset({"/health", "/docs", "/openapi.json"})

#: No script at all, no remote anything: the reports' HTML and the docs page need only
#: inline CSS and inline SVG.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


@dataclass
class FailedAuthentications:
    """Failures per client address in a sliding window, in bounded memory."""

    limit: int = FAILED_AUTH_LIMIT
    window: float = FAILED_AUTH_WINDOW
    clock: Callable[[], float] = time.monotonic
    _seen: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def _recent(self, client: str) -> deque[float]:
        times = self._seen.get(client, deque())
        cutoff = self.clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def blocked_for(self, client: str) -> float:
        """Seconds until ``client`` may try again; 0 when it may now."""
        times = self._recent(client)
        if len(times) < self.limit:
            return 0.0
        return max(times[0] + self.window - self.clock(), 0.0)

    def record(self, client: str) -> None:
        times = self._recent(client)
        times.append(self.clock())
        self._seen[client] = times
        self._seen.move_to_end(client)
        while len(self._seen) > TRACKED_CLIENTS:
            self._seen.popitem(last=False)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


def _bearer(scope: Scope) -> str | None:
    raw = _header(scope, b"authorization")
    if raw is None:
        return None
    scheme, _, credentials = raw.decode("latin-1").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


async def _refuse(
    send: Send, status: int, detail: str, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Gate:
    """Authentication before the body, a body cap, a failed-authentication limit, and
    the security headers, around the ASGI application ``app``."""

    def __init__(
        self,
        app: Asgi,
        tokens: Tokens,
        max_body: int = MAX_BODY_BYTES,
        failures: FailedAuthentications | None = None,
    ) -> None:
        self.app, self.tokens, self.max_body = app, tokens, max_body
        self.failures = failures or FailedAuthentications()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.failures.blocked_for(client)
        if wait:
            retry = str(int(wait) + 1).encode()
            await _refuse(
                send,
                429,
                "too many failed authentications from this address; try again later",
                ((b"retry-after", retry),),
            )
            return
        public = scope["path"] in PUBLIC_PATHS and scope["method"] in ("GET", "HEAD")
        if not public and self.tokens.role_of(_bearer(scope)) is None:
            self.failures.record(client)
            await _refuse(
                send,
                401,
                "a valid bearer token is required",
                ((b"www-authenticate", b"Bearer"),),
            )
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_body:
                await _refuse(send, 413, f"the request body is over {self.max_body} bytes")
                return
        elif _header(scope, b"transfer-encoding") is not None:
            # no length declared: read it here, up to the cap, before the application does
            body = await _read_at_most(receive, self.max_body)
            if body is None:
                await _refuse(send, 413, f"the request body is over {self.max_body} bytes")
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is longer than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever the server says next (a disconnect)."""
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replaying


def _with_security_headers(send: Send) -> Send:
    names = {name for name, _ in SECURITY_HEADERS}

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in names]
            message["headers"] = [*kept, *SECURITY_HEADERS]
        await send(message)

    return sending
