"""Consent proof export (GDPR Art. 7(1): the controller must be able to demonstrate
consent), per purpose: every consent, withdrawal and objection valid by T and recorded
by K, with its channel, notice version, proof reference, valid time, record time, event
id and log position, and for an imported record what its source claims (``Imported``).
Its natural form is CSV, one row per record.

Read from the projection store's journal (every subject's applied events, sealed) and
decoded like the log; ``evidence`` (an IP address, a signature) is personal data:
decrypted for the DPO, ``[withheld]`` for a regulator, ``[erased]`` once shredded.
"""

from __future__ import annotations

from typing import Any

from ledger.contract import events as ev
from ledger.reports.catalog_views import catalog_ref, purpose_in_force, purpose_view
from ledger.reports.journal import subject_events
from ledger.reports.reading import Reading, envelope, iso
from ledger.service.queries import controllers_with_facts, subject_ids
from projections.base import Recorded

REPORT = "consent_proof"
TITLE = "Consent proof"
ARTICLE = "GDPR Art. 7(1)"

COLUMNS = (
    "subject_id",
    "record",
    "controller",
    "purpose",
    "channel",
    "notice_version",
    "proof_ref",
    "consent_type",
    "language",
    "jurisdiction",
    "categories",
    "recipients",
    "expires_at",
    "grounds",
    "evidence",
    "valid_time",
    "record_time",
    "event_id",
    "position",
    # an imported record: what its source system claims (added last: columns keep places)
    "imported_source",
    "imported_recorded_at",
)

_KINDS = {
    ev.ConsentGiven: "consent_given",
    ev.ConsentWithdrawn: "consent_withdrawn",
    ev.ObjectionRaised: "objection",
}


def consent_proof(
    reading: Reading, purpose: str | None, controller: str | None = None
) -> dict[str, Any]:
    catalog, declared = purpose_in_force(
        reading.ledger.catalogs,
        purpose,
        controller,
        reading.at,
        controllers_with_facts(reading.ledger, purpose),
    )
    owner = catalog.controller.id
    records = [
        _row(reading, recorded)
        for subject_id in subject_ids(reading.ledger)
        for recorded in subject_events(reading, subject_id)
        if type(recorded.event) in _KINDS
        and recorded.event.controller == owner
        and getattr(recorded.event, "purpose", None) == declared.id
    ]
    records.sort(key=lambda r: (r["valid_time"], r["event_id"]))
    latest: dict[str, str] = {}
    for r in records:  # in valid-time order: the last record of each subject says its status
        latest[r["subject_id"]] = r["record"]
    summary = {
        "subjects": len(latest),
        **{kind: sum(r["record"] == kind for r in records) for kind in _KINDS.values()},
        "consenting_at_t": sum(status == "consent_given" for status in latest.values()),
    }
    return envelope(
        reading,
        REPORT,
        TITLE,
        ARTICLE,
        {"purpose": declared.id, "controller": owner},
        {
            "purpose": purpose_view(declared, catalog),
            "catalog": catalog_ref(catalog),
            "columns": list(COLUMNS),
            "records": records,
            "summary": summary,
        },
    )


def _row(reading: Reading, recorded: Recorded) -> dict[str, Any]:
    e = recorded.event
    assert isinstance(e, ev.ConsentGiven | ev.ConsentWithdrawn | ev.ObjectionRaised)
    given = e if isinstance(e, ev.ConsentGiven) else None
    evidence = given.evidence.sealed if given and given.evidence else None
    return {
        "subject_id": e.subject_id,
        "record": _KINDS[type(e)],
        "controller": e.controller,
        "purpose": e.purpose,
        "channel": e.channel,
        "notice_version": given.notice_version if given else None,
        "proof_ref": e.proof_ref,
        "consent_type": given.consent_type.value if given else None,
        "language": given.language if given else None,
        "jurisdiction": given.jurisdiction if given else None,
        "categories": list(given.categories) if given else [],
        "recipients": list(given.recipients) if given else [],
        "expires_at": iso(given.expires_at) if given else None,
        "grounds": e.grounds if isinstance(e, ev.ObjectionRaised) else None,
        "evidence": (
            None
            if evidence is None
            else reading.personal(evidence, e.subject_id, e.event_id, "evidence")
        ),
        "valid_time": iso(e.occurred_at),
        "record_time": iso(recorded.recorded_at),
        "event_id": e.event_id,
        "position": recorded.position,
        "imported_source": e.imported.source if e.imported else None,
        "imported_recorded_at": iso(e.imported.recorded_at) if e.imported else None,
    }
