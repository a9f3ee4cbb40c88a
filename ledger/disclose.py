"""Open sealed values for an authorised reader. The only place projections meet keys."""

from __future__ import annotations

from typing import Any

from ledger.keys.sealing import Unreadable, field_ad, open_sealed
from ledger.keys.store import KeyStore
from projections.subject_state import SubjectState

ERASED = "[erased]"


def disclose_subject(state: SubjectState, keys: KeyStore) -> dict[str, Any]:
    """The subject's state with personal values decrypted; shredded ones shown as erased."""
    values = []
    for slot in sorted(state.values):
        held = state.values[slot]
        try:
            text = open_sealed(
                held.sealed, keys, field_ad(held.subject_id, held.event_id, held.path)
            )
        except Unreadable:
            text = ERASED
        values.append(
            {
                "controller": held.controller,
                "field": held.field,
                "category": held.category,
                "value": text,
                "purposes": list(held.purposes),
                "source": held.source,
                "collected_at": held.occurred_at.isoformat(),
                "event_id": held.event_id,
                "position": held.position,
            }
        )
    consents = [
        {
            "controller": c.controller,
            "purpose": c.purpose,
            "status": "given" if c.given else "withdrawn",
            "since": c.occurred_at.isoformat(),
            "channel": c.channel,
            "notice_version": c.notice_version,
            "event_id": c.event_id,
            "position": c.position,
        }
        for _, c in sorted(state.consents.items())
    ]
    return {
        "subject_id": state.subject_id,
        "categories": state.categories,
        "purposes": state.purposes,
        "values": values,
        "consents": consents,
        "events": state.events,
    }
