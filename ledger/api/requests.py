"""``/v1/requests``: requests from people (GDPR Art. 12, 15–22) over HTTP, for the ``dpo``
role only — the same use cases as ``pdl requests`` (``ledger.service.requests`` and
``ledger.reports.request_answers``), one at a time on one ``Backends``.

Request ids are unique per controller: every path names both."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from ledger.api.roles import Dpo
from ledger.contract.families.requests import RefusalGround, RequestKind
from ledger.reports.request_answers import answer
from ledger.service import requests as rq
from ledger.service.backends import Backends
from ledger.service.settings import Settings

router = APIRouter(prefix="/v1/requests", tags=["requests"])


class RequestDesk:
    """One ``Backends`` for the request endpoints, used under a lock, closed with the app."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._ledger: Backends | None = None

    @contextmanager
    def ledger(self) -> Iterator[Backends]:
        with self._lock:
            if self._ledger is None:
                self._ledger = Backends(self._settings)
            self._ledger.current_catalogs()  # versions published since count too
            yield self._ledger

    def close(self) -> None:
        with self._lock:
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None


def install_requests(app: FastAPI, settings: Settings) -> None:
    """Add the ``/v1/requests`` endpoints to ``app``, their adapters closed with it."""
    desk = RequestDesk(settings)
    app.state.requests = desk
    app.include_router(router)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        try:
            async with inner(application) as state:
                yield state
        finally:
            desk.close()

    closing: Callable[[Any], AbstractAsyncContextManager[Any]] = lifespan
    app.router.lifespan_context = closing


def _desk(request: Request) -> RequestDesk:
    desk: RequestDesk = request.app.state.requests
    return desk


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Received(Body):
    controller: str = Field(description="Controller id, as in its catalog.")
    subject: str = Field(description="The person: natural identifier, or sub_… id.")
    kind: RequestKind
    channel: str = Field(description="How it was received, e.g. 'e-mail'.")
    received_at: datetime | None = Field(default=None, description="Default: now.")
    details: str | None = Field(default=None, description="What the person wrote (sealed).")
    request_id: str | None = Field(default=None, description="Your reference; default req_….")


class IdentityCheck(Body):
    verified: bool
    note: str = Field(description="verified: how it was checked; rejected: why.")


class Reasoned(Body):
    reason: str


class Refusal(Body):
    ground: RefusalGround
    explanation: str


class Withdrawal(Body):
    reason: str | None = None


class AnswerAsked(Body):
    language: str = Field(default="en", description="access: en or fr.")


class Notified(Body):
    recipient: str
    channel: str


@router.get("", summary="Every request received (dpo)")
def list_requests(request: Request, _: Dpo, controller: str | None = None) -> list[dict[str, Any]]:
    with _desk(request).ledger() as ledger:
        now = ledger.clock()
        return [rq.request_view(ledger, s, now) for s in rq.requests(ledger, controller)]


@router.get("/due", summary="Open requests, soonest deadline first (dpo)")
def due(request: Request, _: Dpo, controller: str | None = None) -> list[dict[str, Any]]:
    with _desk(request).ledger() as ledger:
        now = ledger.clock()
        views = [rq.request_view(ledger, s, now) for s in rq.requests(ledger, controller)]
    return sorted((v for v in views if v["status"] == "open"), key=lambda v: v["due_at"])


@router.post("", status_code=201, summary="Record a request received (dpo)")
def receive(request: Request, body: Received, _: Dpo) -> dict[str, Any]:
    with _desk(request).ledger() as ledger:
        request_id = rq.receive(
            ledger,
            body.controller,
            body.subject,
            body.kind.value,
            body.channel,
            body.received_at,
            body.details,
            body.request_id,
        )
        state = rq.request_state(ledger, body.controller, request_id)
        return rq.request_view(ledger, state, ledger.clock())


@router.get("/{controller}/{request_id}", summary="One request and the recipients to tell (dpo)")
def show(request: Request, controller: str, request_id: str, _: Dpo) -> dict[str, Any]:
    with _desk(request).ledger() as ledger:
        state = rq.request_state(ledger, controller, request_id)
        shown = rq.request_view(ledger, state, ledger.clock())
        shown["recipients_to_notify"] = rq.recipients_to_notify(ledger, state)
        return shown


def _record(
    request: Request, controller: str, request_id: str, type_name: str, **fields: Any
) -> dict[str, Any]:
    with _desk(request).ledger() as ledger:
        state = rq.record(ledger, controller, request_id, type_name, **fields)
        return rq.request_view(ledger, state, ledger.clock())


@router.post("/{controller}/{request_id}/identity", summary="Record the identity check (dpo)")
def identity(
    request: Request, controller: str, request_id: str, body: IdentityCheck, _: Dpo
) -> dict[str, Any]:
    if body.verified:
        return _record(request, controller, request_id, "RequestIdentityVerified", method=body.note)
    return _record(request, controller, request_id, "RequestIdentityRejected", reason=body.note)


@router.post("/{controller}/{request_id}/extension", summary="Extend by two months (dpo)")
def extend(
    request: Request, controller: str, request_id: str, body: Reasoned, _: Dpo
) -> dict[str, Any]:
    return _record(request, controller, request_id, "RequestExtended", reason=body.reason)


@router.post("/{controller}/{request_id}/refusal", summary="Refuse, Art. 12(5) (dpo)")
def refuse(
    request: Request, controller: str, request_id: str, body: Refusal, _: Dpo
) -> dict[str, Any]:
    return _record(
        request,
        controller,
        request_id,
        "RequestRefused",
        ground=body.ground.value,
        explanation=body.explanation,
    )


@router.post("/{controller}/{request_id}/withdrawal", summary="Record a withdrawal (dpo)")
def withdraw(
    request: Request, controller: str, request_id: str, body: Withdrawal, _: Dpo
) -> dict[str, Any]:
    return _record(request, controller, request_id, "RequestWithdrawn", reason=body.reason)


@router.post(
    "/{controller}/{request_id}/answer",
    summary="Record the answer and produce it (dpo): access report, portable export, "
    "erasure certificate, recipients to tell",
)
def answer_request(
    request: Request, controller: str, request_id: str, body: AnswerAsked, _: Dpo
) -> dict[str, Any]:
    with _desk(request).ledger() as ledger:
        done = answer(ledger, controller, request_id, body.language)
    return {**done.summary(), "document": done.document}


@router.post(
    "/{controller}/{request_id}/notifications",
    summary="Record a recipient told, Art. 19 (dpo)",
)
def notify(
    request: Request, controller: str, request_id: str, body: Notified, _: Dpo
) -> dict[str, Any]:
    return _record(
        request,
        controller,
        request_id,
        "RecipientNotified",
        recipient=body.recipient,
        channel=body.channel,
    )
