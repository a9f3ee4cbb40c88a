"""Requests from people (Art. 12, 15–22): received, identity checked, extended, answered,
refused or withdrawn, and the recipients told (Art. 19). Every fact goes through the
intake like any event (the subject's natural identifier becomes its subject id there);
what is known of a request is read from the ``requests`` projection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from ledger.contract import events as ev
from ledger.contract.certificate_chain import certificate_sha256
from ledger.contract.families.requests import RequestKind
from ledger.errors import InvalidRequest, NotFound, Refused
from ledger.policy.requests import NOTIFIED_KINDS, request_due, why_not_answerable
from ledger.service.backends import Backends
from ledger.service.erasure import append_one
from ledger.service.queries import journal_events, subject_state
from ledger.service.views import iso
from projections.requests import RequestsProjection, RequestState, request_key

_PROJECTION = RequestsProjection()


def new_request_id() -> str:
    return "req_" + uuid4().hex


def receive(
    ledger: Backends,
    controller: str,
    subject: str,
    kind: str,
    channel: str,
    received_at: datetime | None = None,
    details: str | None = None,
    request_id: str | None = None,
) -> str:
    """Record a request received; returns its id. ``subject`` is the person's natural
    identifier or a subject id."""
    fields: dict[str, Any] = {
        "type": "RequestReceived",
        "controller": controller,
        "occurred_at": iso(received_at or ledger.clock()),
        "request_id": request_id or new_request_id(),
        "kind": kind,
        "channel": channel,
    }
    fields["subject_id" if subject.startswith("sub_") else "subject"] = subject
    if details is not None:
        fields["details"] = details
    if find_state(ledger, controller, fields["request_id"], must_exist=False) is not None:
        raise InvalidRequest(
            f"request_id: {fields['request_id']} is already a request of {controller} — "
            "fix: choose another id, or leave it out and the ledger names one",
            field="request_id",
        )
    append_one(ledger, fields)
    return str(fields["request_id"])


def find_state(
    ledger: Backends, controller: str, request_id: str, must_exist: bool = True
) -> RequestState | None:
    ledger.catch_up()
    stored = ledger.store.state(_PROJECTION.name, request_key(controller, request_id))
    state = None if stored is None else _PROJECTION.load(stored)
    if state is not None and state.received_at is None:
        state = None  # events about a request never received: a producer's mistake
    if state is None and must_exist:
        raise NotFound(
            f"request: no request {request_id} of {controller} was received — fix: "
            "check the id with `pdl requests list`"
        )
    return state


def request_state(ledger: Backends, controller: str, request_id: str) -> RequestState:
    found = find_state(ledger, controller, request_id)
    assert found is not None
    return found


def record(
    ledger: Backends,
    controller: str,
    request_id: str,
    type_name: str,
    at: datetime | None = None,
    **fields: Any,
) -> RequestState:
    """Append one more fact about an open request (identity check, extension, refusal,
    withdrawal, notification) and return the request as it now stands."""
    state = request_state(ledger, controller, request_id)
    closing = type_name in ("RequestAnswered", "RequestRefused", "RequestWithdrawn")
    if closing and state.closed is not None:
        raise Refused(f"request: {request_id} was already {state.closed}; it stays closed")
    if type_name == "RequestExtended" and state.extended_reason is not None:
        raise Refused(
            f"request: {request_id} was already extended; Art. 12(3) allows one extension "
            "of two further months"
        )
    append_one(
        ledger,
        {
            "type": type_name,
            "controller": controller,
            "subject_id": state.subject_id,
            "occurred_at": iso(at or ledger.clock()),
            "request_id": request_id,
            **{k: v for k, v in fields.items() if v is not None},
        },
    )
    return request_state(ledger, controller, request_id)


def due_at(ledger: Backends, state: RequestState) -> datetime:
    assert state.received_at is not None
    extended = state.extended_reason is not None
    return request_due(ledger.catalogs, state.controller, state.received_at, extended)


def requests(ledger: Backends, controller: str | None = None) -> list[RequestState]:
    """Every request received, oldest first."""
    ledger.catch_up()
    found = [_PROJECTION.load(text) for _, text in ledger.store.states(_PROJECTION.name)]
    return sorted(
        (s for s in found if s.received_at is not None and controller in (None, s.controller)),
        key=lambda s: (s.received_at or datetime.min, s.controller, s.request_id),
    )


def request_view(ledger: Backends, state: RequestState, now: datetime) -> dict[str, Any]:
    """A request as the CLI, the API and the reports show it (no personal value)."""
    due = due_at(ledger, state)
    return {
        "controller": state.controller,
        "request_id": state.request_id,
        "subject_id": state.subject_id,
        "kind": state.kind,
        "channel": state.channel,
        "received_at": iso(state.received_at),
        "due_at": iso(due),
        "extended": state.extended_reason is not None,
        "extension_reason": state.extended_reason,
        "identity": state.identity,
        "status": state.closed or "open",
        "closed_at": iso(state.closed_at),
        "refusal_ground": state.refusal_ground,
        "summary": state.summary,
        "overdue": state.closed is None and due <= now,
        "certificate_sequence": state.certificate_sequence,
        "certificate_sha256": state.certificate_sha256,
        "notified": [n.recipient for n in state.notified],
        "position": state.position,
    }


def overdue(ledger: Backends, now: datetime, controller: str | None = None) -> list[RequestState]:
    """Open requests whose deadline has passed at ``now``."""
    return [
        s for s in requests(ledger, controller) if s.closed is None and due_at(ledger, s) <= now
    ]


@dataclass(frozen=True)
class Certificate:
    sequence: int
    sha256: str
    event_id: str


def check_answerable(ledger: Backends, state: RequestState) -> None:
    """Refused naming the rule and the fix when the request cannot be answered now."""
    assert state.received_at is not None
    catalog = ledger.catalogs.in_force(state.controller, ledger.clock())
    problem = why_not_answerable(catalog, state.closed, state.identity)
    if problem is not None:
        raise Refused(f"request {state.request_id}: {problem}")


def erasure_certificate(ledger: Backends, state: RequestState) -> Certificate:
    """The certificate of the erasure carried out for the subject since the request."""
    assert state.subject_id is not None and state.received_at is not None
    found = []
    for recorded in journal_events(ledger, state.subject_id, ledger.clock()):
        event = recorded.event
        if (
            isinstance(event, ev.DataErased)
            and event.controller == state.controller
            and event.certificate
            and event.occurred_at >= state.received_at
        ):
            sequence = json.loads(event.certificate).get("sequence")
            if isinstance(sequence, int):
                found.append(
                    Certificate(sequence, certificate_sha256(event.certificate), event.event_id)
                )
    if not found:
        raise Refused(
            f"request {state.request_id}: no erasure of this subject was carried out since "
            "the request was received — fix: run `pdl erase SUBJECT --controller "
            f"{state.controller}`, then answer"
        )
    return max(found, key=lambda c: c.sequence)


def recipients_to_notify(ledger: Backends, state: RequestState) -> list[dict[str, Any]]:
    """For an erasure, rectification or restriction: every recipient the subject's data
    was disclosed to (recorded ``DataShared``), and whether it was told (Art. 19)."""
    if state.kind not in {k.value for k in NOTIFIED_KINDS} or state.subject_id is None:
        return []
    held = subject_state(ledger, state.subject_id)
    told = {n.recipient: n for n in state.notified}
    shares = [] if held is None else sorted(held.recipients.values(), key=lambda s: s.recipient)
    return [
        {
            "recipient": s.recipient,
            "role": s.role,
            "country": s.country,
            "purposes": list(s.purposes),
            "last_shared_at": iso(s.last_at),
            "notified_at": iso(told[s.recipient].notified_at) if s.recipient in told else None,
        }
        for s in shares
    ]


def record_answer(
    ledger: Backends, state: RequestState, summary: str, certificate: Certificate | None
) -> RequestState:
    check_answerable(ledger, state)
    return record(
        ledger,
        state.controller,
        state.request_id,
        "RequestAnswered",
        summary=summary,
        certificate_sequence=None if certificate is None else certificate.sequence,
        certificate_sha256=None if certificate is None else certificate.sha256,
    )


def request_kinds() -> list[str]:
    return [k.value for k in RequestKind]
