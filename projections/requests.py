"""Requests from people, one state per request: what was asked, when, the identity check,
the extension, how it was closed and which recipients were told. Keyed by
``controller|request_id``. Pure; the deadline is computed from this state by
``ledger.policy.requests`` (it needs the controller's time zone).

Every event of a request is keyed by its subject, so they arrive in the order appended.
"""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ledger.contract.canonical import projection_state_text
from ledger.contract.families import requests as rq
from projections.base import Projection, Recorded


def request_key(controller: str, request_id: str) -> str:
    return f"{controller}|{request_id}"


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    recipient: str
    channel: str
    notified_at: datetime
    event_id: str


class RequestState(BaseModel):
    model_config = ConfigDict(frozen=True)

    controller: str
    request_id: str
    subject_id: str | None = None
    kind: str | None = None
    channel: str | None = None
    received_at: datetime | None = None
    received_event_id: str | None = None
    position: str | None = None
    #: what the person wrote, sealed (base64 ciphertext), if kept
    details_sealed: str | None = None
    #: unchecked, verified or rejected: the last check recorded
    identity: str = "unchecked"
    identity_note: str | None = None
    extended_reason: str | None = None
    extended_at: datetime | None = None
    #: answered, refused or withdrawn; None while open
    closed: str | None = None
    closed_at: datetime | None = None
    closed_event_id: str | None = None
    summary: str | None = None
    refusal_ground: str | None = None
    certificate_sequence: int | None = None
    certificate_sha256: str | None = None
    notified: tuple[Notification, ...] = ()


class RequestsProjection(Projection[RequestState]):
    """Per request (controller and request id): its life from receipt to close."""

    name = "requests"
    #: 2: states kept as pydantic's JSON (``projection_state_text``), not sorted json.dumps
    revision = 2

    def key_of(self, recorded: Recorded) -> str | None:
        event = recorded.event
        if isinstance(event, rq.RequestEvent):
            return request_key(event.controller, event.request_id)
        return None

    def initial(self, key: str) -> RequestState:
        controller, _, request_id = key.partition("|")
        return RequestState(controller=controller, request_id=request_id)

    def apply(self, state: RequestState, recorded: Recorded) -> RequestState:
        event = recorded.event
        at = event.occurred_at
        update: dict[str, object]
        if isinstance(event, rq.RequestReceived):
            sealed = None if event.details is None else event.details.sealed
            update = {
                "subject_id": event.subject_id,
                "kind": event.kind.value,
                "channel": event.channel,
                "received_at": at,
                "received_event_id": event.event_id,
                "position": recorded.position,
                "details_sealed": None if sealed is None else base64.b64encode(sealed).decode(),
            }
        elif isinstance(event, rq.RequestIdentityVerified):
            update = {"identity": "verified", "identity_note": event.method}
        elif isinstance(event, rq.RequestIdentityRejected):
            update = {"identity": "rejected", "identity_note": event.reason}
        elif isinstance(event, rq.RequestExtended):
            update = {"extended_reason": event.reason, "extended_at": at}
        elif isinstance(event, rq.RequestAnswered):
            update = _closed(state, "answered", event, at) | {
                "summary": event.summary,
                "certificate_sequence": event.certificate_sequence,
                "certificate_sha256": event.certificate_sha256,
            }
        elif isinstance(event, rq.RequestRefused):
            update = _closed(state, "refused", event, at) | {
                "refusal_ground": event.ground.value,
                "summary": event.explanation,
            }
        elif isinstance(event, rq.RequestWithdrawn):
            update = _closed(state, "withdrawn", event, at) | {"summary": event.reason}
        elif isinstance(event, rq.RecipientNotified):
            told = Notification(
                recipient=event.recipient,
                channel=event.channel,
                notified_at=at,
                event_id=event.event_id,
            )
            update = {"notified": (*state.notified, told)}
        else:  # pragma: no cover (key_of takes request events only)
            return state
        if "closed" in update and state.closed is not None:
            return state  # the first close stands; a second is a producer's mistake
        return state.model_copy(update=update)

    def dump(self, state: RequestState) -> str:
        return projection_state_text(state)

    def load(self, text: str) -> RequestState:
        return RequestState.model_validate_json(text)


def _closed(
    state: RequestState, how: str, event: rq.RequestEvent, at: datetime
) -> dict[str, object]:
    return {"closed": how, "closed_at": at, "closed_event_id": event.event_id}
