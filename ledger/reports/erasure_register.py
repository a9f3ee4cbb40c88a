"""Erasure register (GDPR Art. 17 and 5(2)): every erasure certificate valid by T and
recorded by K, each with its verification status, the state of the certificate chain,
the requests still waiting for an answer, and a check per subject that the erased data
cannot be decrypted.

The certificates are read from the raw erasure topic and verified by the erasure code
(``ledger.erasure.chain``: Ed25519 signature, agreement with the event, SHA-256
chain), against the ledger's own public key; only records below the report's positions
count. Shredding is verified by ``ledger.erasure.verify.verify_erasure`` against the
log and the key store as they are when the report is built.
"""

from __future__ import annotations

from typing import Any

from ledger.contract import events as ev
from ledger.contract.certificate_chain import certificate_sha256
from ledger.erasure.chain import StoredCertificate, name_of, verify_register
from ledger.erasure.verify import verify_erasure
from ledger.policy.deadlines import answer_due, controller_zone
from ledger.reports.journal import subject_events
from ledger.reports.reading import Reading, certificates_within, envelope, iso
from ledger.service.certificates import register_keys
from ledger.service.queries import subject_ids

REPORT = "erasure_register"
TITLE = "Erasure register"
ARTICLE = "GDPR Art. 17 and 5(2)"


def erasure_register(reading: Reading, controller: str | None = None) -> dict[str, Any]:
    requests: dict[str, ev.ErasureRequested] = {}
    answered: set[str] = set()
    erased_ids: set[str] = set()
    for subject_id in subject_ids(reading.ledger):
        for recorded in subject_events(reading, subject_id):
            event = recorded.event
            if controller is not None and event.controller != controller:
                continue
            if isinstance(event, ev.ErasureRequested):
                requests[event.event_id] = event
            elif isinstance(event, ev.DataErased):
                erased_ids.add(event.event_id)
                answered.add(event.request_event_id or "")
    stored = [s for s in certificates_within(reading) if s.event_id in erased_ids or s.problem]
    trusted = register_keys(reading.ledger)
    verification = verify_register(stored, trusted.keys)
    certificates = [_certificate(s, verification.problems) for s in stored]
    body = {
        "certificates": certificates,
        "register": {
            "certificates": len(stored),
            "intact": verification.ok,
            # False: verified against the data directory's own key, which whoever can
            # write that directory can replace (set PDL_PINNED_PUBLIC_KEY_FILE)
            "public_key_pinned": trusted.pinned,
            "head_sequence": verification.head_sequence,
            "head_sha256": verification.head_sha256,
            "problems": list(verification.problems),
        },
        "pending_requests": [
            _pending(reading, r)
            for r in sorted(requests.values(), key=lambda r: (r.occurred_at, r.event_id))
            if r.event_id not in answered
        ],
        "shredding_verified": [
            _shredding(reading, subject)
            for subject in sorted({c["subject_id"] for c in certificates if c["subject_id"]})
        ],
    }
    return envelope(reading, REPORT, TITLE, ARTICLE, {"controller": controller}, body)


def _certificate(stored: StoredCertificate, problems: list[str]) -> dict[str, Any]:
    doc = stored.document() or {}
    name = name_of(stored, stored.document())
    mine = [p for p in problems if p.startswith(name + ":")]
    if stored.problem:
        mine = mine or [stored.problem]
    erased = doc.get("erased") or {}
    request = doc.get("request") or {}
    return {
        "sequence": doc.get("sequence"),
        "certificate_id": stored.event_id,
        "subject_id": stored.subject_id,
        "controller": doc.get("controller"),
        "scope": stored.scope,
        "reason": doc.get("reason"),
        "request_event_id": stored.request_event_id,
        "requested_at": request.get("requested_at"),
        "erased_at": doc.get("erased_at"),
        # when the erasure was due, and how late it was done when late (signed)
        "due_at": doc.get("due_at"),
        "late_by": doc.get("late_by"),
        "position": stored.position,
        "keys_destroyed": len(erased.get("keys_destroyed", [])),
        "retention_classes_erased": list(erased.get("retention_classes", [])),
        "retained_classes": [r.get("retention_class") for r in doc.get("retained", [])],
        "sha256": certificate_sha256(stored.text) if stored.text else None,
        "verified": not mine,
        "problems": mine,
        "certificate": doc or None,
    }


def _pending(reading: Reading, request: ev.ErasureRequested) -> dict[str, Any]:
    zone = controller_zone(reading.ledger.catalogs, request.controller, request.occurred_at)
    due = answer_due(request.occurred_at, zone)
    return {
        "request_event_id": request.event_id,
        "subject_id": request.subject_id,
        "controller": request.controller,
        "scope": request.scope.label(),
        "reason": request.reason.value,
        "requested_at": iso(request.occurred_at),
        "answer_due": iso(due),
        "overdue": due < reading.at,
    }


def _shredding(reading: Reading, subject_id: str) -> dict[str, Any]:
    ledger = reading.ledger
    result = verify_erasure(ledger.log, ledger.registry, ledger.topics, ledger.keys, subject_id)
    return {
        "subject_id": subject_id,
        "ok": result.ok,
        "fields_in_scope": result.in_scope,
        "readable_in_scope": list(result.readable_in_scope),
        "retained_under_hold": result.retained_under_hold,
        "fenced": result.fenced,
        "undecodable": list(result.undecodable),
    }
