"""Record of processing activities (GDPR Art. 30), per controller, as of T.

Every item of Art. 30(1) from the catalog in force at T — (a) the controller's identity,
contact and DPO, (b) purposes, (c) categories of data subjects, (d) recipients, (e)
transfers with their safeguards, (f) retention in words, (g) security measures — and,
where the controller acts as a processor, Art. 30(2): the controllers it served, by
controller id, and what it did for each. Where the notice is silent the record says
so (``NOT_STATED``) rather than inventing. Beside each, what the ledger actually saw
by T (as known at K): subjects and events per purpose, processing and how much of it
was unlawful, recipients actually shared with, transfers outside the EEA, processors
seen acting.
"""

from __future__ import annotations

from typing import Any

from ledger.policy.catalog import Catalog
from ledger.reports.catalog_views import (
    catalog_ref,
    catalogs_in_force,
    outside_eea,
    purpose_view,
    recipient_view,
    retention_words,
)
from ledger.reports.journal import histories, purpose_basis_facts
from ledger.reports.observed import ControllerTally, ServedTally, served, tally
from ledger.reports.reading import Reading, envelope, iso
from ledger.reports.timeline import judgements_as_of
from projections.basis import BasisFacts

REPORT = "record_of_processing"
TITLE = "Record of processing activities"
ARTICLE = "GDPR Art. 30"

#: What the record says for an Art. 30 item the controller's notice does not give.
NOT_STATED = "not stated in the notice"


def record_of_processing(reading: Reading, controller: str | None = None) -> dict[str, Any]:
    catalogs = catalogs_in_force(reading.ledger.catalogs, reading.at, controller)
    events = [
        (history.subject_id, recorded)
        for history in histories(reading)
        for recorded in history.events
    ]
    seen = tally(events)
    done_for_others = served(events)
    sections = [
        {
            **_controller_section(reading, c, seen.get(c.controller.id)),
            "processing_for_controllers": _served_view(
                reading, c.controller.id, done_for_others.get(c.controller.id, {})
            ),
        }
        for c in catalogs
    ]
    return envelope(
        reading, REPORT, TITLE, ARTICLE, {"controller": controller}, {"controllers": sections}
    )


def _controller_section(
    reading: Reading, catalog: Catalog, seen: ControllerTally | None
) -> dict[str, Any]:
    seen = seen or ControllerTally()
    c = catalog.controller
    declared = {p.id for p in catalog.purposes}
    facts = purpose_basis_facts(reading, c.id, None)
    purposes = [
        {
            **purpose_view(p, catalog),
            "retention_words": {
                language: retention_words(p.retention, language) for language in ("en", "fr")
            },
            "observed": _purpose_observed(
                reading, [f for f in facts if f.purpose == p.id], p.id, seen
            ),
        }
        for p in catalog.purposes
    ]
    recipients = [
        {
            **recipient_view(r),
            "observed": {
                "shares": sum(s.shares for s in seen.shares_with(r.id)),
                "subjects": len({x for s in seen.shares_with(r.id) for x in s.subjects}),
            },
        }
        for r in catalog.recipients
    ]
    return {
        "controller": {
            "id": c.id,
            "name": c.name,
            "role": c.role,
            "country": c.country,
            "quote": c.quote,
        },
        "contact": _contact(catalog),
        "data_subjects": _data_subjects(catalog),
        "security": {
            "text": catalog.security.quote if catalog.security else NOT_STATED,
            "stated": catalog.security is not None,
        },
        "catalog": catalog_ref(catalog),
        "purposes": purposes,
        "categories": [
            {"id": k.id, "title": k.title, "optional": k.optional, "quote": k.quote}
            for k in catalog.categories
        ],
        "recipients": recipients,
        "transfers_outside_eea": _transfers(catalog, seen),
        "as_processor": [
            {
                "purpose": p.id,
                "title": p.title,
                "on_behalf_of": p.on_behalf_of,
                "subjects": len(seen.purposes[p.id].subjects) if p.id in seen.purposes else 0,
                "events": seen.purposes[p.id].events if p.id in seen.purposes else 0,
            }
            for p in catalog.purposes
            if p.acting_as == "processor"
        ],
        "processors_seen": [
            {"processor": name, "subjects": len(t.subjects), "events": t.events}
            for name, t in sorted(seen.processors.items())
        ],
        "undeclared_purposes_seen": [
            {"purpose": name, "subjects": len(t.subjects), "events": t.events}
            for name, t in sorted(seen.purposes.items())
            if name not in declared
        ],
        "declarations": [
            {"kind": d.kind, "country": d.country, "quote": d.quote} for d in catalog.declarations
        ],
        "unresolved": [u.quote for u in catalog.unresolved],
        "observed": {"subjects": len(seen.overall.subjects), "events": seen.overall.events},
    }


def _purpose_observed(
    reading: Reading, basis_facts: list[BasisFacts], purpose: str, seen: ControllerTally
) -> dict[str, Any]:
    tallied = seen.purposes.get(purpose)
    then = now = 0
    for facts in basis_facts:
        for j in judgements_as_of(facts, reading.ledger.catalogs, reading.at, reading.horizon):
            then += j.verdict_then == "unlawful"
            now += j.verdict_now == "unlawful"
    return {
        "subjects": len(tallied.subjects) if tallied else 0,
        "events": tallied.events if tallied else 0,
        "processing": seen.processing.get(purpose, 0),
        "unlawful_as_known_then": then,
        "unlawful_as_known_at_k": now,
        "recipients_shared_with": seen.recipients_for(purpose),
    }


def _transfers(catalog: Catalog, seen: ControllerTally) -> dict[str, Any]:
    declared_ids = {r.id for r in catalog.recipients}
    declared = [
        {
            "recipient": r.id,
            "name": r.name,
            "country": r.country,
            "safeguard": r.safeguard,
            "purposes": sorted(p.id for p in catalog.purposes if r.id in p.recipients),
        }
        for r in catalog.recipients
        if outside_eea(r.country)
    ]
    observed = [
        {**s.as_json(), "declared": s.recipient in declared_ids}
        for _, s in sorted(seen.shares.items(), key=lambda i: (i[0][0], i[0][1], i[0][2] or ""))
        if outside_eea(s.country)
    ]
    return {"declared": declared, "observed": observed}


def _contact(catalog: Catalog) -> dict[str, Any]:
    """Art. 30(1)(a): how to reach the controller and its DPO, as the notice gives them."""
    given = catalog.contact
    return {
        "address": (given and given.address) or NOT_STATED,
        "phone": (given and given.phone) or NOT_STATED,
        "email": (given and given.email) or NOT_STATED,
        "dpo": (given and given.dpo) or NOT_STATED,
        "quote": given.quote if given else None,
    }


def _data_subjects(catalog: Catalog) -> dict[str, Any]:
    """Art. 30(1)(c): the categories of data subjects, each with the purposes concerning
    it (every purpose when the catalog lists none)."""
    every = [p.id for p in catalog.purposes]
    groups: list[dict[str, Any]] = [
        {"id": s.id, "title": s.title, "purposes": list(s.purposes) or every, "quote": s.quote}
        for s in catalog.data_subjects
    ]
    text = "; ".join(s.title for s in catalog.data_subjects) or NOT_STATED
    return {"text": text, "stated": bool(groups), "categories": groups}


def _served_view(
    reading: Reading, processor: str, done: dict[str, ServedTally]
) -> list[dict[str, Any]]:
    """Art. 30(2): per controller served (by id), what this processor did on its behalf,
    and whether that controller's catalog in force declares it as its processor."""
    rows = []
    for controller, t in sorted(done.items()):
        their = reading.ledger.catalogs.in_force(controller, reading.at)
        theirs = {r.id for r in their.recipients if r.role == "processor"} if their else set()
        rows.append(
            {
                "controller": controller,
                "name": their.controller.name if their else None,
                "contact": _contact(their) if their else None,
                "declared_as_processor": processor in theirs,
                "subjects": len(t.subjects),
                "events": t.events,
                "purposes": sorted(t.purposes),
                "kinds": sorted(t.kinds),
                "first_at": iso(t.first_at),
                "last_at": iso(t.last_at),
            }
        )
    return rows
