"""Open sealed values for an authorised reader. The only place projections meet keys."""

from __future__ import annotations

from typing import Any

from ledger.keys.sealing import Unreadable, field_ad, open_sealed
from ledger.keys.store import KeyStore
from projections.subject_state import Evidence, HeldValue, SubjectState

ERASED = "[erased]"


def open_value(held: HeldValue, keys: KeyStore) -> str:
    """The plaintext of a held value, or ``[erased]`` when its key was shredded."""
    ad = field_ad(held.subject_id, held.evidence.event_id, held.path)
    try:
        return open_sealed(held.sealed, keys, ad)
    except Unreadable:
        return ERASED


def _evidence(e: Evidence) -> dict[str, str]:
    return {
        "event_id": e.event_id,
        "occurred_at": e.occurred_at.isoformat(),
        "position": e.position,
    }


def disclose_subject(state: SubjectState, keys: KeyStore) -> dict[str, Any]:
    """The subject's state, personal values decrypted; shredded ones shown as erased."""
    values = [
        {
            "controller": v.controller,
            "field": v.field,
            "category": v.category,
            "value": open_value(v, keys),
            "purposes": list(v.purposes),
            "source": v.source,
            "rectified": v.rectified,
            **_evidence(v.evidence),
        }
        for _, v in sorted(state.values.items())
    ]
    consents = [
        {
            "controller": c.controller,
            "purpose": c.purpose,
            "status": c.status,
            "channel": c.channel,
            "notice_version": c.notice_version,
            **_evidence(c.evidence),
        }
        for _, c in sorted(state.consents.items())
    ]
    scoped = {
        name: [
            {
                "scope": s.scope,
                "active": s.active,
                "reason": s.reason,
                "article": s.article,
                "until": s.until.isoformat() if s.until else None,
                **_evidence(s.evidence),
            }
            for _, s in sorted(getattr(state, name).items())
        ]
        for name in ("restrictions", "holds")
    }
    return {
        "subject_id": state.subject_id,
        "events": state.events,
        "categories": state.categories,
        "purposes": state.purposes,
        "values": values,
        "consents": consents,
        **scoped,
        "recipients": [s.model_dump(mode="json") for _, s in sorted(state.recipients.items())],
        "erasures": [
            {**e.model_dump(mode="json", exclude={"evidence"}), **_evidence(e.evidence)}
            for _, e in sorted(state.erasures.items())
        ],
        "processing": [p.model_dump(mode="json") for _, p in sorted(state.processing.items())],
        "anchors": {k: v.isoformat() for k, v in sorted(state.anchors.items())},
    }
