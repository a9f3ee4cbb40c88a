"""The erasure processor's own projections: which requests wait for an answer, and the
head of the certificate chain. Folded by the processor's consumer group
(``consumers/erasure.py``) over the erasure topic only, into its own store.

Order-insensitive: a request's status is the union of what its request and its answer
say; the head is the highest certificate sequence seen (then the greatest hash).
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ledger.contract import events as ev
from ledger.contract.canonical import projection_state_text
from ledger.contract.certificate_chain import GENESIS, certificate_sha256
from projections.base import Projection, Recorded


class ErasureRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    subject_id: str
    controller: str
    scope: str
    reason: str
    occurred_at: datetime
    position: str


class RequestStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    request: ErasureRequest | None = None
    #: the DataErased answering it, once appended
    answered_by: str | None = None

    @property
    def pending(self) -> bool:
        return self.request is not None and self.answered_by is None


class ErasureRequestsProjection(Projection[RequestStatus]):
    """Per ErasureRequested event id: the request and whether it was carried out."""

    name = "erasure_requests"
    #: 2: states kept as pydantic's JSON (``projection_state_text``), not sorted json.dumps
    revision = 2

    def key_of(self, recorded: Recorded) -> str | None:
        event = recorded.event
        if isinstance(event, ev.ErasureRequested):
            return event.event_id
        if isinstance(event, ev.DataErased):
            return event.request_event_id
        return None

    def initial(self, key: str) -> RequestStatus:
        return RequestStatus()

    def apply(self, state: RequestStatus, recorded: Recorded) -> RequestStatus:
        event = recorded.event
        if isinstance(event, ev.ErasureRequested):
            request = ErasureRequest(
                event_id=event.event_id,
                subject_id=event.subject_id,
                controller=event.controller,
                scope=event.scope.label(),
                reason=event.reason.value,
                occurred_at=event.occurred_at,
                position=recorded.position,
            )
            return state.model_copy(update={"request": request})
        answer = min(filter(None, (state.answered_by, event.event_id)))
        return state.model_copy(update={"answered_by": answer})

    def dump(self, state: RequestStatus) -> str:
        return projection_state_text(state)

    def load(self, text: str) -> RequestStatus:
        return RequestStatus.model_validate_json(text)


class RegisterHead(BaseModel):
    model_config = ConfigDict(frozen=True)

    sequence: int = 0
    sha256: str = GENESIS


HEAD_KEY = "head"


class RegisterHeadProjection(Projection[RegisterHead]):
    """The last certificate of the chain: the next one links to it."""

    name = "erasure_register_head"
    #: 2: states kept as pydantic's JSON (``projection_state_text``), not sorted json.dumps
    revision = 2

    def key_of(self, recorded: Recorded) -> str | None:
        event = recorded.event
        return HEAD_KEY if isinstance(event, ev.DataErased) and event.certificate else None

    def initial(self, key: str) -> RegisterHead:
        return RegisterHead()

    def apply(self, state: RegisterHead, recorded: Recorded) -> RegisterHead:
        event = recorded.event
        assert isinstance(event, ev.DataErased) and event.certificate is not None
        try:
            sequence = json.loads(event.certificate).get("sequence")
        except (ValueError, AttributeError):
            return state  # not a certificate: `pdl certificates verify` reports it
        if not isinstance(sequence, int):
            return state
        sha = certificate_sha256(event.certificate)
        return max(state, RegisterHead(sequence=sequence, sha256=sha), key=_order)

    def dump(self, state: RegisterHead) -> str:
        return projection_state_text(state)

    def load(self, text: str) -> RegisterHead:
        return RegisterHead.model_validate_json(text)


def _order(head: RegisterHead) -> tuple[int, str]:
    return head.sequence, head.sha256
