"""What we hold on each subject now: values by category, purposes, consent status,
recipients, restrictions, legal holds, erasures, processing and retention anchors.

Order-insensitive: each slot keeps the event latest in valid time (event id breaks
ties), and the rest are sets, counts, minima and maxima, so any interleaving of topics
and partitions gives one state. The state's shapes are in ``projections/subject_model.py``
and are importable from here too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from ledger.contract import events as ev
from ledger.contract.canonical import projection_state_text
from ledger.contract.sealed import MalformedSealedValue, key_id_of
from projections.base import Projection, Recorded, changed
from projections.subject_model import (
    ConsentStatus,
    Erasure,
    Evidence,
    HeldValue,
    LegalHold,
    Processing,
    ScopedStatus,
    SealedNote,
    SealedUnder,
    Share,
    SubjectState,
)

__all__ = [
    "ConsentStatus",
    "Erasure",
    "Evidence",
    "HeldValue",
    "LegalHold",
    "Processing",
    "ScopedStatus",
    "SealedNote",
    "SealedUnder",
    "Share",
    "SubjectState",
    "SubjectStateProjection",
]


class SubjectStateProjection(Projection[SubjectState]):
    name = "subject_state"
    #: 2: states kept as pydantic's JSON (``projection_state_text``), not sorted json.dumps
    revision = 2

    def key_of(self, recorded: Recorded) -> str | None:
        event = recorded.event
        return event.subject_id if isinstance(event, ev.SubjectEvent) else None

    def initial(self, key: str) -> SubjectState:
        # validating the empty maps costs more than the rest of a typical fold
        return changed(_NOBODY, {"subject_id": key})

    def apply(self, state: SubjectState, recorded: Recorded) -> SubjectState:
        # one copy per event: the changes say what they change, and the count goes with it
        change = _change_of(type(recorded.event))
        update = {} if change is None else change(state, recorded)
        return changed(state, {**update, "events": state.events + 1})

    def dump(self, state: SubjectState) -> str:
        return projection_state_text(state)

    def load(self, text: str) -> SubjectState:
        return SubjectState.model_validate_json(text)


#: the empty state the others are copies of: the folds never change a map in place
_NOBODY = SubjectState(subject_id="")


def _put(mapping: dict[str, BaseModel], slot: str, new: BaseModel) -> dict[str, BaseModel]:
    old = mapping.get(slot)
    old_evidence = None if old is None else getattr(old, "evidence", None)
    if getattr(new, "evidence").newer_than(old_evidence):  # noqa: B009 — duck-typed slots
        return {**mapping, slot: new}
    return mapping


def _values(state: SubjectState, recorded: Recorded) -> dict[str, Any]:
    event = recorded.event
    assert isinstance(event, ev.DataCollected | ev.DataRectified)
    values: dict[str, BaseModel] = dict(state.values)
    for i, item in enumerate(event.values):
        assert item.value.sealed is not None, "projections only ever see sealed values"
        held = HeldValue(
            controller=event.controller,
            field=item.field,
            category=item.category,
            sealed=item.value.sealed,
            path=f"values[{i}].value",
            subject_id=event.subject_id,
            source=getattr(event, "source", "rectification"),
            purposes=tuple(event.purposes),
            rectified=isinstance(event, ev.DataRectified),
            evidence=Evidence.of(recorded),
        )
        values = _put(values, f"{event.controller}/{item.field}", held)
    return {"values": values, "sealed_under": _sealed_under(state, event)}


def _sealed_under(
    state: SubjectState,
    event: ev.DataCollected | ev.DataRectified,
) -> dict[str, SealedUnder]:
    """Earliest collection and every purpose per key id: a minimum and a union."""
    found = dict(state.sealed_under)
    for item in event.values:
        try:
            key_id = key_id_of(item.value.sealed or b"")
        except MalformedSealedValue:
            continue  # not a pdl-aead-v1 value: nothing a key can shred
        old = found.get(key_id)
        found[key_id] = SealedUnder(
            controller=event.controller,
            purposes=tuple(sorted({*event.purposes, *(old.purposes if old else ())})),
            first_at=min(event.occurred_at, old.first_at) if old else event.occurred_at,
        )
    return found


def _consent(state: SubjectState, recorded: Recorded) -> dict[str, Any]:
    event = recorded.event
    assert isinstance(event, ev.ConsentGiven | ev.ConsentWithdrawn | ev.ObjectionRaised)
    status: Literal["given", "withdrawn", "objected"] = (
        "given"
        if isinstance(event, ev.ConsentGiven)
        else "withdrawn"
        if isinstance(event, ev.ConsentWithdrawn)
        else "objected"
    )
    new = ConsentStatus(
        controller=event.controller,
        purpose=event.purpose,
        status=status,
        channel=event.channel,
        evidence=Evidence.of(recorded),
        notice_version=event.notice_version if isinstance(event, ev.ConsentGiven) else None,
    )
    consents = _put(dict(state.consents), f"{event.controller}/{event.purpose}", new)
    return {"consents": consents}


def _shared(state: SubjectState, recorded: Recorded) -> dict[str, Any]:
    event = recorded.event
    assert isinstance(event, ev.DataShared)
    old = state.recipients.get(event.recipient)
    at = event.occurred_at
    newest = old is None or (at, event.event_id) > (old.last_at, old.last_event_id)
    share = (
        Share(
            recipient=event.recipient,
            role=event.recipient_role.value,
            country=event.country,
            safeguard=None if event.safeguard is None else event.safeguard.value,
            purposes=(),
            first_at=at,
            last_at=at,
            last_event_id=event.event_id,
        )
        if newest or old is None
        else old
    )
    if old is not None:
        share = share.model_copy(
            update={
                "purposes": tuple(sorted({event.purpose, *old.purposes})),
                "first_at": min(at, old.first_at),
            }
        )
    else:
        share = share.model_copy(update={"purposes": (event.purpose,)})
    return {"recipients": {**state.recipients, event.recipient: share}}


def _restriction(state: SubjectState, recorded: Recorded) -> dict[str, Any]:
    event = recorded.event
    assert isinstance(event, ev.RestrictionApplied | ev.RestrictionLifted)
    new = ScopedStatus(
        scope=event.scope.label(),
        active=isinstance(event, ev.RestrictionApplied),
        reason=event.reason,
        note=_note(event),
        evidence=Evidence.of(recorded),
    )
    current: dict[str, BaseModel] = dict(state.restrictions)
    return {"restrictions": _put(current, new.scope, new)}


def _hold_placed(state: SubjectState, recorded: Recorded) -> dict[str, Any]:
    event = recorded.event
    assert isinstance(event, ev.LegalHoldPlaced)
    hold_id = event.hold_id or event.event_id  # holds placed before ids: the event names it
    evidence, scope = Evidence.of(recorded), event.scope.label()
    old = state.holds.get(hold_id)
    if old is not None and old.placed is not None and not evidence.newer_than(old.placed):
        return {}  # the same hold placed again: the latest placement says its terms
    released = old.released if old else None
    by_scope = state.scope_releases.get(scope)
    if released is None and by_scope is not None and by_scope.newer_than(evidence):
        released = by_scope
    hold = LegalHold(
        hold_id=hold_id,
        scope=scope,
        active=released is None,
        reason=event.reason,
        note=_note(event),
        article=event.article,
        until=event.until,
        evidence=_latest(evidence, released),
        placed=evidence,
        released=released,
    )
    return {"holds": {**state.holds, hold_id: hold}}


def _hold_released(state: SubjectState, recorded: Recorded) -> dict[str, Any]:
    event = recorded.event
    assert isinstance(event, ev.LegalHoldReleased)
    evidence, scope = Evidence.of(recorded), event.scope.label()
    holds = dict(state.holds)
    if event.hold_id is None:  # written before holds had ids: every hold on the scope
        named = [h for h in holds.values() if h.scope == scope and h.placed is not None]
        released = [h for h in named if h.placed and evidence.newer_than(h.placed)]
        old = state.scope_releases.get(scope)
        scope_releases = {**state.scope_releases, scope: _latest(evidence, old)}
    else:
        found = holds.get(event.hold_id)
        released = [
            found
            or LegalHold(
                hold_id=event.hold_id,
                scope=scope,
                active=False,
                reason=event.reason,
                note=_note(event),
                evidence=evidence,
            )
        ]
        scope_releases = state.scope_releases
    for hold in released:
        # the earliest release ends the hold; a second one changes nothing
        first = evidence if hold.released is None or hold.released.newer_than(evidence) else None
        holds[hold.hold_id] = hold.model_copy(
            update={
                "active": False,
                "released": first or hold.released,
                "evidence": _latest(evidence, hold.evidence),
            }
        )
    return {"holds": holds, "scope_releases": scope_releases}


def _note(
    event: ev.RestrictionApplied | ev.RestrictionLifted | ev.LegalHoldPlaced | ev.LegalHoldReleased,
) -> SealedNote | None:
    if event.note is None:
        return None
    assert event.note.sealed is not None, "projections only ever see sealed values"
    return SealedNote(sealed=event.note.sealed, event_id=event.event_id)


def _latest(a: Evidence, b: Evidence | None) -> Evidence:
    return a if a.newer_than(b) else b or a


def _erasure(state: SubjectState, recorded: Recorded) -> dict[str, Any]:
    event = recorded.event
    assert isinstance(event, ev.ErasureRequested | ev.DataErased)
    erasure = Erasure(
        scope=event.scope.label(),
        reason=event.reason.value,
        done=isinstance(event, ev.DataErased),
        evidence=Evidence.of(recorded),
        keys_destroyed=tuple(event.keys_destroyed) if isinstance(event, ev.DataErased) else (),
    )
    return {"erasures": {**state.erasures, event.event_id: erasure}}


def _processed(state: SubjectState, recorded: Recorded) -> dict[str, Any]:
    event = recorded.event
    assert isinstance(event, ev.DataProcessed)
    old = state.processing.get(event.purpose)
    new = Processing(
        purpose=event.purpose,
        count=(old.count if old else 0) + 1,
        last_at=max(event.occurred_at, old.last_at) if old else event.occurred_at,
    )
    return {"processing": {**state.processing, event.purpose: new}}


def _anchored(state: SubjectState, recorded: Recorded) -> dict[str, Any]:
    event = recorded.event
    assert isinstance(event, ev.RetentionAnchorRecorded)
    slot = f"{event.anchor}/{event.purpose or '*'}"
    old = state.anchors.get(slot)
    latest = event.occurred_at if old is None else max(old, event.occurred_at)
    return {"anchors": {**state.anchors, slot: latest}}


_CHANGES = (
    (ev.DataCollected | ev.DataRectified, _values),
    (ev.ConsentGiven | ev.ConsentWithdrawn | ev.ObjectionRaised, _consent),
    (ev.DataShared, _shared),
    (ev.RestrictionApplied | ev.RestrictionLifted, _restriction),
    (ev.LegalHoldPlaced, _hold_placed),
    (ev.LegalHoldReleased, _hold_released),
    (ev.ErasureRequested | ev.DataErased, _erasure),
    (ev.DataProcessed, _processed),
    (ev.RetentionAnchorRecorded, _anchored),
)

_Change = Callable[[SubjectState, Recorded], dict[str, Any]]


@functools.cache
def _change_of(event_type: type[ev.LedgerEvent]) -> _Change | None:
    """The change an event of this type makes (one lookup per event, not a walk of
    ``_CHANGES``); None for a subject event that only counts."""
    return next((change for kind, change in _CHANGES if issubclass(event_type, kind)), None)
