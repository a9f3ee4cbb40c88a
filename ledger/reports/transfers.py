"""Transfers outside the EEA (GDPR Chapter V, Art. 44-49), by recipient and safeguard:
what the catalogs in force at T declare, what the ledger saw shared by T (as known at
K), and whether each observed transfer matches a declaration (same recipient, country
and safeguard)."""

from __future__ import annotations

from typing import Any

from ledger.policy.catalog import Catalog
from ledger.reports.catalog_views import catalogs_in_force, outside_eea
from ledger.reports.journal import histories
from ledger.reports.observed import tally
from ledger.reports.reading import Reading, envelope

REPORT = "transfers_outside_eea"
TITLE = "Transfers outside the EEA"
ARTICLE = "GDPR Art. 44-49"


def transfers_outside_eea(reading: Reading, controller: str | None = None) -> dict[str, Any]:
    catalogs = catalogs_in_force(reading.ledger.catalogs, reading.at, controller)
    seen = tally(
        (h.subject_id, r)
        for h in histories(reading)
        for r in h.events
        if controller is None or r.event.controller == controller
    )
    declared = [
        _declared(c, r.id) for c in catalogs for r in c.recipients if outside_eea(r.country)
    ]
    by_catalog = {c.controller.id: c for c in catalogs}
    observed = []
    for owner, tallied in sorted(seen.items()):
        for (recipient, country, safeguard), share in sorted(
            tallied.shares.items(), key=lambda i: (i[0][0], i[0][1], i[0][2] or "")
        ):
            if not outside_eea(country):
                continue
            match = next(
                (d for d in declared if d["controller"] == owner and d["recipient"] == recipient),
                None,
            )
            observed.append(
                {
                    "controller": owner,
                    **share.as_json(),
                    "declared": match is not None and owner in by_catalog,
                    "matches_declaration": match is not None
                    and (match["country"], match["safeguard"]) == (country, safeguard),
                }
            )
    by_safeguard: dict[str, dict[str, Any]] = {}
    for item in [*declared, *observed]:
        slot = by_safeguard.setdefault(
            item["safeguard"] or "none", {"declared": [], "observed": [], "shares": 0}
        )
        name = f"{item['controller']}/{item['recipient']}"
        if "shares" in item:
            slot["observed"] = sorted({*slot["observed"], name})
            slot["shares"] += item["shares"]
        else:
            slot["declared"] = sorted({*slot["declared"], name})
    body = {
        "declared": declared,
        "observed": observed,
        "by_safeguard": dict(sorted(by_safeguard.items())),
        "summary": {
            "declared": len(declared),
            "observed": len(observed),
            "shares": sum(o["shares"] for o in observed),
            "not_matching_declaration": sum(not o["matches_declaration"] for o in observed),
        },
    }
    return envelope(reading, REPORT, TITLE, ARTICLE, {"controller": controller}, body)


def _declared(catalog: Catalog, recipient_id: str) -> dict[str, Any]:
    r = next(x for x in catalog.recipients if x.id == recipient_id)
    return {
        "controller": catalog.controller.id,
        "catalog_version": catalog.version,
        "recipient": r.id,
        "name": r.name,
        "role": r.role,
        "country": r.country,
        "safeguard": r.safeguard,
        "safeguard_inferred": "safeguard" in r.inferred,
        "safeguard_quote": r.safeguard_quote,
        "purposes": sorted(p.id for p in catalog.purposes if r.id in p.recipients),
    }
