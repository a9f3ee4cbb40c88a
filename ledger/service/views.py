"""The JSON views of what the ledger answers, shared by ``pdl state``, ``pdl basis``, the
reports and the API, so that one answer has one shape wherever it is read. Also the
only place projections meet keys: sealed values are opened here for an authorised
reader (docs/REPORTS.md documents these shapes in its shared definitions).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.contract.base import is_subject_id
from ledger.contract.sealed import field_ad, is_well_formed
from ledger.errors import InvalidRequest, NotFound
from ledger.keys.sealing import Unreadable, open_sealed
from ledger.keys.store import KeyStore
from ledger.service.intake import normalise_natural_id
from projections.basis import Fact
from projections.lawfulness import BasisAnswer, Judgement
from projections.subject_state import Evidence, HeldValue, ScopedStatus, SubjectState

#: What any view shows for a value whose key was shredded.
ERASED = "[erased]"
#: What a view shows for bytes that are no sealed value at all (plaintext or damage
#: appended around the ledger): never taken for an erasure.
MALFORMED = "[unreadable: malformed]"


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC, or None."""
    return None if value is None else value.astimezone(UTC).isoformat()


def resolve_subject(keys: KeyStore, typed: str, controller: str | None = None) -> str:
    """The subject id of what a reader typed: a subject id itself, or a natural identifier
    at ``controller``. A person has one subject id per controller and the ledger does not
    join them for a reader: an identifier known to several controllers, with none named,
    is answered with the controllers to choose from (docs/DPO.md, 'Controllers are
    tenants')."""
    if is_subject_id(typed):
        return typed
    natural = normalise_natural_id(typed)
    if controller is not None:
        found = keys.subject_for(natural, controller)
        if found is None:
            raise NotFound(
                f"no subject is known by that identifier at controller {controller} (it "
                "may have been erased)",
                "check the identifier and the controller; without --controller the "
                "controllers that know it are named",
            )
        return found
    known = keys.subjects_known_as(natural)
    if not known:
        raise NotFound("no subject is known by that identifier (it may have been erased)")
    if len(known) > 1:
        raise InvalidRequest(
            "controller: the identifier is known to controllers "
            + ", ".join(sorted(known))
            + ", each with a subject id of its own",
            "name one with --controller",
            field="controller",
        )
    (only,) = known.values()
    return only


def open_field(sealed: bytes, keys: KeyStore, subject_id: str, event_id: str, path: str) -> str:
    """The plaintext of one sealed field of an event, ``[erased]`` once its key was
    shredded, or ``[unreadable: malformed]`` if it is no sealed value (the consumers
    dead-letter such records; this keeps any other reader from calling them erased)."""
    if not is_well_formed(sealed):
        return MALFORMED
    try:
        return open_sealed(sealed, keys, field_ad(subject_id, event_id, path))
    except Unreadable:
        return ERASED


def open_value(held: HeldValue, keys: KeyStore) -> str:
    """The plaintext of a held value, ``[erased]`` when its key was shredded, or
    ``[unreadable: malformed]``."""
    return open_field(held.sealed, keys, held.subject_id, held.evidence.event_id, held.path)


def evidence_view(e: Evidence) -> dict[str, str | None]:
    return {"event_id": e.event_id, "occurred_at": iso(e.occurred_at), "position": e.position}


def held_value_view(v: HeldValue, shown: str) -> dict[str, Any]:
    """A value held on a subject, with ``shown`` in place of its sealed bytes (the
    plaintext, ``[erased]`` or ``[withheld]``: the reader decides)."""
    return {
        "controller": v.controller,
        "field": v.field,
        "category": v.category,
        "value": shown,
        "purposes": list(v.purposes),
        "source": v.source,
        "rectified": v.rectified,
        **evidence_view(v.evidence),
    }


def open_note(s: ScopedStatus, subject_id: str, keys: KeyStore) -> str | None:
    """The free-text note of a restriction or hold, ``[erased]`` once shredded."""
    if s.note is None:
        return None
    return open_field(s.note.sealed, keys, subject_id, s.note.event_id, "note")


def scoped_view(s: ScopedStatus, note: str | None = None) -> dict[str, Any]:
    """A restriction or a legal hold; ``note`` is its opened free text (``[erased]``,
    ``[withheld]``: the reader decides); ``[withheld]`` when not given, None when the
    event had no note."""
    return {
        "scope": s.scope,
        "active": s.active,
        "reason": s.reason,
        "note": None if s.note is None else note or "[withheld]",
        "article": s.article,
        "until": iso(s.until),
        **evidence_view(s.evidence),
    }


def disclose_subject(state: SubjectState, keys: KeyStore) -> dict[str, Any]:
    """The subject's state, personal values decrypted; shredded ones shown as erased."""
    consents = [
        {
            "controller": c.controller,
            "purpose": c.purpose,
            "status": c.status,
            "channel": c.channel,
            "notice_version": c.notice_version,
            **evidence_view(c.evidence),
        }
        for _, c in sorted(state.consents.items())
    ]
    return {
        "subject_id": state.subject_id,
        "events": state.events,
        "categories": state.categories,
        "purposes": state.purposes,
        "values": [
            held_value_view(v, open_value(v, keys)) for _, v in sorted(state.values.items())
        ],
        "consents": consents,
        "restrictions": [
            scoped_view(s, open_note(s, state.subject_id, keys))
            for _, s in sorted(state.restrictions.items())
        ],
        "holds": [
            scoped_view(s, open_note(s, state.subject_id, keys))
            for _, s in sorted(state.holds.items())
        ],
        "recipients": [s.model_dump(mode="json") for _, s in sorted(state.recipients.items())],
        "erasures": [
            {**e.model_dump(mode="json", exclude={"evidence"}), **evidence_view(e.evidence)}
            for _, e in sorted(state.erasures.items())
        ],
        "processing": [p.model_dump(mode="json") for _, p in sorted(state.processing.items())],
        "anchors": {k: v.isoformat() for k, v in sorted(state.anchors.items())},
    }


def fact_view(f: Fact) -> dict[str, Any]:
    """A fact bearing on a purpose's basis (docs/REPORTS.md ``fact``)."""
    return {
        "kind": f.kind,
        "occurred_at": iso(f.valid_at),
        "recorded_at": iso(f.recorded_at),
        "event_id": f.event_id,
        "position": f.position,
        "claimed_basis": f.claimed_basis,
        "system": f.system,
        "expires_at": iso(f.expires_at),
    }


def basis_answer_view(a: BasisAnswer) -> dict[str, Any]:
    """The basis at T as known at K, its intervals and evidence (``basis_answer``)."""
    return {
        "basis": a.status.basis,
        "reason": a.status.reason,
        "catalog_version": a.status.catalog_version,
        "valid_from": iso(a.valid_from),
        "valid_to": iso(a.valid_to),
        "believed_from": iso(a.believed_from),
        "believed_until": iso(a.believed_until),
        "evidence": [fact_view(f) for f in a.status.evidence],
    }


def judgement_view(subject_id: str, j: Judgement) -> dict[str, Any]:
    """One processing judged as known when recorded and as known at K (``judgement``)."""
    p = j.processed
    return {
        "subject_id": subject_id,
        "event_id": p.event_id,
        "occurred_at": iso(p.valid_at),
        "recorded_at": iso(p.recorded_at),
        "position": p.position,
        "kind": p.kind,
        "claimed_basis": p.claimed_basis,
        "system": p.system,
        "categories": list(p.categories),
        "recipient": p.recipient,
        "country": p.country,
        "safeguard": p.safeguard,
        "verdict_then": j.verdict_then,
        "reason_then": _reason(j.then.status.reason, j.then.status.basis, j.breaches_then),
        "verdict_now": j.verdict_now,
        "reason_now": _reason(j.now.status.reason, j.now.status.basis, j.breaches_now),
        "breaches_then": list(j.breaches_then),
        "breaches_now": list(j.breaches_now),
        "catalog_version_then": j.then.status.catalog_version,
        "evidence_now": [f.event_id for f in j.now.status.evidence],
    }


def _reason(basis_reason: str, basis: str | None, breaches: tuple[str, ...]) -> str:
    """Why the verdict: the basis that failed, else the first rule broken, else the basis."""
    if basis is None or not breaches:
        return basis_reason
    return breaches[0]
