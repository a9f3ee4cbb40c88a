"""The parts of the Art. 15 answer the subject state does not keep as such: every value
held (per field *and* purpose, not the latest per field), recipients declared as well as
shared with (15(1)(c): "will be disclosed"), every transfer with its own safeguard,
retention per category in words (15(1)(d)), and per controller the rights, the complaint
authority, the contact and automated decision-making (15(1)(e)-(h))."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.contract import events as ev
from ledger.policy.catalog import EEA, Catalog, Catalogs
from ledger.reports.catalog_views import retention_words
from ledger.reports.journal import SubjectHistory
from ledger.reports.reading import iso
from projections.subject_state import Evidence, HeldValue

#: The rights a subject has against every controller (GDPR articles), in the order shown.
RIGHTS = ("15", "16", "17", "18", "20", "21", "22", "7(3)")

#: The supervisory authority by the controller's country, when its catalog names none.
AUTHORITIES: dict[str, dict[str, str]] = {
    "FR": {
        "name": "Commission Nationale de l'Informatique et des Libertés (CNIL)",
        "address": "3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France",
        "website": "https://www.cnil.fr",
    },
    "BE": {
        "name": "Autorité de protection des données (APD)",
        "address": "Rue de la Presse 35, 1000 Bruxelles, Belgique",
        "website": "https://www.autoriteprotectiondonnees.be",
    },
}


def held_values(history: SubjectHistory) -> list[HeldValue]:
    """Every value held: one per controller, field and purposes; a later collection or
    rectification of the same field for the same purposes replaces it."""
    found: dict[tuple[str, str, tuple[str, ...]], HeldValue] = {}
    for recorded in history.events:  # valid-time order
        event = recorded.event
        if not isinstance(event, ev.DataCollected | ev.DataRectified):
            continue
        purposes = tuple(sorted(event.purposes))
        for i, item in enumerate(event.values):
            if item.value.sealed is None:
                continue
            found[(event.controller, item.field, purposes)] = HeldValue(
                controller=event.controller,
                field=item.field,
                category=item.category,
                sealed=item.value.sealed,
                path=f"values[{i}].value",
                subject_id=event.subject_id,
                source=getattr(event, "source", "rectification"),
                purposes=purposes,
                rectified=isinstance(event, ev.DataRectified),
                evidence=Evidence.of(recorded),
            )
    return [found[k] for k in sorted(found)]


def recipients(
    history: SubjectHistory, catalogs: Catalogs, at: datetime, purposes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Recipients shared with, and those the catalog declares for the subject's purposes."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for p in purposes:
        catalog = catalogs.in_force(p["controller"], at)
        declared = catalog.purpose(p["purpose"]) if catalog else None
        for rid in declared.recipients if declared else []:
            row = _row(rows, p["controller"], rid, catalog)
            row["declared"] = True
            row["purposes"] = sorted({*row["purposes"], p["purpose"]})
    for recorded in history.events:
        event = recorded.event
        if not isinstance(event, ev.DataShared):
            continue
        row = _row(rows, event.controller, event.recipient, catalogs.in_force(event.controller, at))
        row["shared"] = True
        row["role"], row["country"] = event.recipient_role.value, event.country
        row["safeguard"] = None if event.safeguard is None else event.safeguard.value
        row["purposes"] = sorted({*row["purposes"], event.purpose})
        row["first_at"] = row["first_at"] or iso(event.occurred_at)
        row["last_at"] = iso(event.occurred_at)
    return [rows[k] for k in sorted(rows)]


def _row(
    rows: dict[tuple[str, str], dict[str, Any]],
    controller: str,
    rid: str,
    catalog: Catalog | None,
) -> dict[str, Any]:
    if (controller, rid) not in rows:
        known = next((r for r in catalog.recipients if r.id == rid), None) if catalog else None
        rows[(controller, rid)] = {
            "controller": controller,
            "recipient": rid,
            "name": known.name if known else None,
            "role": known.role if known else None,
            "country": known.country if known else None,
            "safeguard": known.safeguard if known else None,
            "declared": False,
            "shared": False,
            "purposes": [],
            "first_at": None,
            "last_at": None,
        }
    return rows[(controller, rid)]


def transfers(history: SubjectHistory) -> list[dict[str, Any]]:
    """Every disclosure outside the EEA, one row per recipient, country and safeguard."""
    found: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for recorded in history.events:
        event = recorded.event
        if not isinstance(event, ev.DataShared) or event.country in EEA:
            continue
        safeguard = "" if event.safeguard is None else event.safeguard.value
        at = iso(event.occurred_at)
        row = found.setdefault(
            (event.controller, event.recipient, event.country, safeguard),
            {
                "controller": event.controller,
                "recipient": event.recipient,
                "country": event.country,
                "safeguard": safeguard or None,
                "shares": 0,
                "purposes": [],
                "first_at": at,
                "last_at": at,
            },
        )
        row["shares"] += 1
        row["purposes"] = sorted({*row["purposes"], event.purpose})
        row["last_at"] = at
    return [found[k] for k in sorted(found)]


def retention_by_category(
    history: SubjectHistory, catalogs: Catalogs, at: datetime
) -> list[dict[str, Any]]:
    """Per category held, how long each purpose keeps it, in words (English and French)."""
    found: dict[tuple[str, str], set[str]] = {}
    for v in held_values(history):
        found.setdefault((v.controller, v.category), set()).update(v.purposes)
    out = []
    for (controller, category), purposes in sorted(found.items()):
        catalog = catalogs.in_force(controller, at)
        title = (
            next((c.title for c in catalog.categories if c.id == category), None)
            if catalog
            else None
        )
        rules = []
        for pid in sorted(purposes):
            declared = catalog.purpose(pid) if catalog else None
            if declared is not None:
                rules.append(
                    {
                        "purpose": pid,
                        "title": declared.title,
                        "en": retention_words(declared.retention, "en"),
                        "fr": retention_words(declared.retention, "fr"),
                    }
                )
        out.append({"controller": controller, "category": category, "title": title, "rules": rules})
    return out


def controllers_info(
    history: SubjectHistory, catalogs: Catalogs, at: datetime
) -> list[dict[str, Any]]:
    """Per controller: identity and contact, rights, complaint authority, automated decisions."""
    out = []
    for controller in sorted({r.event.controller for r in history.events}):
        catalog = catalogs.in_force(controller, at)
        if catalog is None:
            continue
        c = catalog.controller
        authority: dict[str, Any] | None
        if catalog.complaint_authority is not None:
            a = catalog.complaint_authority
            authority = {"name": a.name, "address": a.address, "website": a.website}
            authority["from"] = "catalog"
        elif c.country in AUTHORITIES:
            authority = {**AUTHORITIES[c.country], "from": "controller_country"}
        else:
            authority = None
        declared = {d.kind: d.quote for d in catalog.declarations}
        contact = catalog.contact
        out.append(
            {
                "controller": controller,
                "name": c.name,
                "address": contact.address if contact else None,
                "email": contact.email if contact else None,
                "phone": contact.phone if contact else None,
                "dpo": contact.dpo if contact else None,
                "rights": list(RIGHTS),
                "complaint_authority": authority,
                "automated_decisions": {
                    "none_declared": "no_automated_decisions" in declared,
                    "quote": declared.get("no_automated_decisions"),
                },
            }
        )
    return out
