"""Record of processing activities (GDPR Art. 30), per controller, as of T.

What the catalog in force at T declares — purposes with their bases, categories,
recipients, retention rules and transfers, the processing done as a processor on
behalf of others — side by side with what the ledger actually saw by T (as known at
K): subjects and events per purpose, processing and how much of it was unlawful,
recipients actually shared with, transfers outside the EEA, processors seen acting.
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
)
from ledger.reports.journal import histories, purpose_basis_facts
from ledger.reports.observed import ControllerTally, tally
from ledger.reports.reading import Reading, envelope
from ledger.reports.timeline import judgements_as_of
from projections.basis import BasisFacts

REPORT = "record_of_processing"
TITLE = "Record of processing activities"
ARTICLE = "GDPR Art. 30"


def record_of_processing(reading: Reading, controller: str | None = None) -> dict[str, Any]:
    catalogs = catalogs_in_force(reading.ledger.catalogs, reading.at, controller)
    seen = tally(
        (history.subject_id, recorded)
        for history in histories(reading)
        for recorded in history.events
    )
    sections = [_controller_section(reading, c, seen.get(c.controller.id)) for c in catalogs]
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
