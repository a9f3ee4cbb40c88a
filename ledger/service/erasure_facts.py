"""What retention and erasure need to know of a subject, read from the subject-state
projection and the key store (which of the subject's keys still exist).

Here, in the service layer, because it joins two packages that must not know each
other: the projections (what the log says is held) and the erasure domain (what is due
and what is held back). Pure all the same: no I/O."""

from __future__ import annotations

from collections.abc import Mapping

from ledger.erasure.holds import ActiveHold
from ledger.erasure.retention import Collected, SubjectFacts
from projections.subject_state import SubjectState


def subject_facts(state: SubjectState, live_classes: Mapping[str, str]) -> SubjectFacts:
    """Facts from a subject's state; ``live_classes`` maps the key ids the store still
    holds to their retention class. Values whose key is gone no longer count; a key's
    data counts from the first value sealed under it."""
    collected = [
        Collected(first.controller, first.purposes, live_classes[key_id], first.first_at)
        for key_id, first in state.sealed_under.items()
        if key_id in live_classes
    ]
    withdrawn = {
        slot: c.evidence.occurred_at
        for slot, c in state.consents.items()
        if c.status in ("withdrawn", "objected")
    }
    return SubjectFacts(
        state.subject_id,
        tuple(sorted(collected, key=lambda c: (c.occurred_at, c.retention_class))),
        dict(state.anchors),
        withdrawn,
    )


def active_holds(state: SubjectState) -> dict[str, ActiveHold]:
    """The subject's placed legal holds by hold id, as the projection keeps them."""
    return {
        hold_id: ActiveHold(
            hold_id,
            h.scope,
            h.active,
            h.reason,
            h.article,
            h.until,
            h.placed.event_id,
            h.placed.position,
        )
        for hold_id, h in state.holds.items()
        if h.placed is not None
    }


def controllers_of(state: SubjectState) -> list[str]:
    """Controllers that recorded values, consents or holds about the subject."""
    found = {v.controller for v in state.values.values()}
    found |= {c.controller for c in state.consents.values()}
    return sorted(found)
