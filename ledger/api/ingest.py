"""``POST /v1/events``: producers append events over HTTP, as ``pdl emit`` does.

The body is one event (a JSON object), a JSON array of events, or JSON lines
(``Content-Type: application/x-ndjson``). A request is all-or-nothing: every event is
validated first (``ledger.service.submission.submit_events``, the path of ``pdl emit``
and of the Python API) and, if any is refused, nothing is appended and the 422 lists
every problem by index, field, rule and fix — never the value sent. A retried request
appends nothing again: events whose ``event_id`` the ledger already holds come back as
their original receipts, marked ``duplicate`` (``ledger.service.receipts`` says how long
ids are remembered). Only ``emitter`` tokens may append, and only for the controllers of
their scope (``ledger.api.auth``). The body cap and the token check before the body is
read are the gate's (``ledger.api.gate``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ledger.api.roles import Emitter
from ledger.service.backends import Backends
from ledger.service.intake import Appended
from ledger.service.settings import Settings
from ledger.service.submission import BatchProblem, BatchRejected, submit_events

NDJSON = "application/x-ndjson"

_EXAMPLE_EVENT = {
    "type": "ConsentGiven",
    "event_id": "0b7e7c4e-3f7a-4d8e-9a51-2f6a8c1d9e00",
    "subject": "camille.martin@example.fr",
    "controller": "informatique70",
    "purpose": "newsletter",
    "channel": "web-form",
    "notice_version": "politique-2023-01",
    "occurred_at": "2024-03-12T09:30:00Z",
}
_EXAMPLE_RECEIPTS = {
    "appended": 1,
    "duplicates": 0,
    "receipts": [
        {
            "event_id": "0b7e7c4e-3f7a-4d8e-9a51-2f6a8c1d9e00",
            "type": "ConsentGiven",
            "key": "sub_5f0c8a1e9b2d4c6f8a0b1c2d3e4f5a6b",
            "topic": "pdl.consent",
            "duplicate": False,
        }
    ],
}
_EXAMPLE_REJECTIONS = {
    "detail": [
        {
            "index": 0,
            "field": "occurred_at",
            "rule": "Input should have timezone info",
            "fix": "use an ISO 8601 timestamp with a zone, e.g. 2024-03-12T09:30:00Z",
            "reason": "Input should have timezone info — fix: use an ISO 8601 timestamp with "
            "a zone, e.g. 2024-03-12T09:30:00Z",
        },
        {
            "index": 1,
            "field": "controller",
            "rule": "outside the controllers this caller may write for",
            "fix": "send it with a token scoped to its controller",
            "reason": "outside the controllers this caller may write for — fix: send it with "
            "a token scoped to its controller",
        },
    ]
}

_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "one event, a JSON array of events, or JSON lines (docs/EVENTS.md "
    "lists every type and field; docs/INTEGRATORS.md shows clients)",
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]
            },
            "examples": {
                "one event": {"value": _EXAMPLE_EVENT},
                "a batch": {"value": [_EXAMPLE_EVENT]},
            },
        },
        NDJSON: {
            "schema": {"type": "string"},
            "example": json.dumps(_EXAMPLE_EVENT) + "\n",
        },
    },
}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "every event was already in the ledger (a retry): nothing appended, "
        "the original receipts returned",
        "content": {"application/json": {"example": {**_EXAMPLE_RECEIPTS, "appended": 0}}},
    },
    201: {
        "description": "appended; one receipt per event, in order",
        "content": {"application/json": {"example": _EXAMPLE_RECEIPTS}},
    },
    401: {"description": "no token, or an unknown one"},
    403: {"description": "not an emitter token"},
    409: {"description": "an event_id was used before for another event"},
    413: {"description": "the body is over the cap"},
    415: {"description": "neither application/json nor application/x-ndjson"},
    422: {
        "description": "nothing appended: every problem, by index (from 0), field, rule and fix",
        "content": {"application/json": {"example": _EXAMPLE_REJECTIONS}},
    },
}

router = APIRouter()


class Ingestion:
    """The appends of one server, one at a time, on a ``Backends`` of their own (a
    report being built never delays an append's lock, nor the reverse)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._backends: Backends | None = None

    def submit(self, events: list[object], controllers: frozenset[str] | None) -> list[Appended]:
        with self._lock:
            if self._backends is None:
                self._backends = Backends(self._settings)
            self._backends.current_catalogs()  # versions published since count too
            return submit_events(self._backends.intake(), events, controllers)

    def close(self) -> None:
        with self._lock:
            if self._backends is not None:
                self._backends.close()
                self._backends = None


def install_ingestion(app: FastAPI, settings: Settings) -> None:
    """Add ``POST /v1/events`` to ``app``, its appends closed with the app."""
    ingestion = Ingestion(settings)
    app.state.ingestion = ingestion
    app.include_router(router)
    app.router.lifespan_context = _closing(app.router.lifespan_context, ingestion)


def _closing(
    inner: Callable[[Any], AbstractAsyncContextManager[Any]], ingestion: Ingestion
) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        try:
            async with inner(app) as state:
                yield state
        finally:
            ingestion.close()

    return lifespan


@router.post(
    "/v1/events",
    tags=["events"],
    summary="Append events (emitter tokens; all or nothing; retries are safe)",
    status_code=201,
    responses=_RESPONSES,
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def post_events(request: Request, grant: Emitter) -> JSONResponse:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("application/json", NDJSON, ""):
        return JSONResponse(
            {"detail": f"send application/json or {NDJSON}, not another media type"}, 415
        )
    body = await request.body()
    parsed = _events_of(body, ndjson=media_type == NDJSON)
    if isinstance(parsed, BatchProblem):
        return _unprocessable([parsed])
    ingestion: Ingestion = request.app.state.ingestion
    try:
        receipts = await run_in_threadpool(ingestion.submit, parsed, grant.controllers)
    except BatchRejected as exc:
        return _unprocessable(exc.problems)
    duplicates = sum(r.duplicate for r in receipts)
    answer = {
        "appended": len(receipts) - duplicates,
        "duplicates": duplicates,
        "receipts": [
            {
                "event_id": r.event_id,
                "type": r.type_name,
                "key": r.key,
                "topic": r.topic,
                "duplicate": r.duplicate,
            }
            for r in receipts
        ],
    }
    return JSONResponse(answer, 201 if duplicates < len(receipts) else 200)


def _events_of(body: bytes, ndjson: bool) -> list[object] | BatchProblem:
    """The events of a body, or the problem that stops it being read at all. A line of
    JSON lines that is not JSON is refused with the other problems, by its index among
    the non-blank lines."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BatchProblem(-1, "(body)", f"not UTF-8 at byte {exc.start + 1}", "send UTF-8")
    if ndjson:
        return [_line(line) for line in text.split("\n") if line.strip()]
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        return BatchProblem(
            -1,
            "(body)",
            f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            "send one JSON object, or an array of them",
        )
    except RecursionError:
        return BatchProblem(-1, "(body)", "nested too deeply", "flatten the events")
    return parsed if isinstance(parsed, list) else [parsed]


class _Unreadable:
    """A line of JSON lines that did not parse: refused by ``submit_events`` as not an
    object (every other line is still checked, so all problems come back at once)."""


def _line(line: str) -> object:
    try:
        return json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return _Unreadable()


def _unprocessable(problems: list[BatchProblem]) -> JSONResponse:
    detail = [
        {
            "index": None if p.index < 0 else p.index,
            "field": p.field,
            "rule": p.rule,
            "fix": p.fix,
            "reason": f"{p.rule} — fix: {p.fix}",
        }
        for p in problems
    ]
    return JSONResponse({"detail": detail}, 422)
