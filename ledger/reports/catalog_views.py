"""The catalog as reports show it: purposes, recipients and retention rules as JSON-ready
dicts quoting the notice, and the checks that turn a controller or purpose named in a
request into the catalog version in force at T (or a ``ReportRequestError``)."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from ledger.policy.catalog import EEA, Catalog, Catalogs, Purpose, Recipient, RetentionRule
from ledger.reports.reading import ReportRequestError, iso


def retention_text(rule: RetentionRule) -> str:
    """ "P3Y from last_contact, then erase" (with an early end and next steps)."""
    text = f"{rule.duration} from {rule.anchor}"
    if rule.ends_early_on:
        text += f", or at {rule.ends_early_on} if sooner"
    text += f", then {rule.action}"
    if rule.then is not None:
        text += "; " + retention_text(rule.then)
    return text


def retention_view(rule: RetentionRule) -> dict[str, Any]:
    return {
        "duration": rule.duration,
        "anchor": rule.anchor,
        "action": rule.action,
        "ends_early_on": rule.ends_early_on,
        "text": retention_text(rule),
        "quote": rule.quote,
    }


def outside_eea(country: str) -> bool:
    return country not in EEA


def recipient_view(r: Recipient) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "role": r.role,
        "country": r.country,
        "outside_eea": outside_eea(r.country),
        "safeguard": r.safeguard,
        "safeguard_inferred": "safeguard" in r.inferred,
        "safeguard_quote": r.safeguard_quote,
        "quote": r.quote,
    }


def purpose_view(p: Purpose, catalog: Catalog) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "basis": p.basis.value,
        "other_bases": [b.value for b in p.other_bases],
        "basis_quote": p.basis_quote,
        "categories": list(p.categories),
        "recipients": list(p.recipients),
        "retention": retention_view(p.retention),
        "retention_class": p.key_class,
        "acting_as": p.acting_as or catalog.controller.role,
        "on_behalf_of": p.on_behalf_of,
        "legal_hold": p.legal_hold,
        "quote": p.quote,
        "inferred": list(p.inferred),
    }


def catalog_ref(catalog: Catalog) -> dict[str, Any]:
    return {
        "controller": catalog.controller.id,
        "version": catalog.version,
        "effective_from": iso(catalog.effective_from),
        "source": catalog.source,
    }


def catalogs_in_force(catalogs: Catalogs, at: datetime, controller: str | None) -> list[Catalog]:
    """The catalog in force at ``at`` of the controller named, or of every controller."""
    if controller is None:
        found = [catalogs.in_force(c, at) for c in catalogs.controllers()]
        return [c for c in found if c is not None]
    return [in_force(catalogs, controller, at)]


def in_force(catalogs: Catalogs, controller: str, at: datetime) -> Catalog:
    if controller not in catalogs.controllers():
        raise ReportRequestError(
            "controller",
            f"unknown controller {controller!r} — fix: use one of: "
            + ", ".join(catalogs.controllers()),
        )
    catalog = catalogs.in_force(controller, at)
    if catalog is None:
        earliest = catalogs.earliest(controller)
        since = iso(earliest.effective_from) if earliest else "?"
        raise ReportRequestError(
            "at", f"no catalog of {controller} is in force then — fix: ask about {since} or later"
        )
    return catalog


def purpose_in_force(
    catalogs: Catalogs,
    purpose: str | None,
    controller: str | None,
    at: datetime,
    seen: Collection[str] = (),
) -> tuple[Catalog, Purpose]:
    """The catalog and purpose a purpose-level report is about. When several controllers
    declare the purpose and none is named, the only one of them in ``seen`` (controllers
    with facts for it) is taken."""
    if not purpose:
        raise ReportRequestError("purpose", "this report is about one purpose — fix: name it")
    if controller is None:
        owners = catalogs.controllers_with_purpose(purpose)
        if not owners:
            raise ReportRequestError(
                "purpose", f"no controller's catalog declares purpose {purpose!r}"
            )
        if len(owners) > 1 and len(set(owners) & set(seen)) == 1:
            owners = sorted(set(owners) & set(seen))
        if len(owners) > 1:
            raise ReportRequestError(
                "controller",
                f"purpose {purpose!r} exists for several controllers ({', '.join(owners)}) "
                "— fix: name one",
            )
        controller = owners[0]
    catalog = in_force(catalogs, controller, at)
    found = catalog.purpose(purpose)
    if found is None:
        raise ReportRequestError(
            "purpose",
            f"purpose {purpose!r} is not in catalog {controller} {catalog.version} — fix: use "
            "one of: " + ", ".join(p.id for p in catalog.purposes),
        )
    return catalog, found


_UNITS = {
    "en": {
        "Y": ("year", "years"),
        "M": ("month", "months"),
        "W": ("week", "weeks"),
        "D": ("day", "days"),
        "H": ("hour", "hours"),
    },
    "fr": {
        "Y": ("an", "ans"),
        "M": ("mois", "mois"),
        "W": ("semaine", "semaines"),
        "D": ("jour", "jours"),
        "H": ("heure", "heures"),
    },
}

_ANCHORS = {
    "en": {
        "collection": "collection",
        "last_contact": "the last contact",
        "contract_start": "the start of the contract",
        "contract_end": "the end of the contract",
        "transaction": "the transaction",
        "request_closed": "the closing of the request",
        "app_connection": "the last connection to the app",
        "consent_withdrawn": "the withdrawal of consent",
        "settlement": "settlement",
        "event": "the event",
        "termination": "termination",
        "user_deletion": "your deletion request",
        "contest_end": "the end of the contest",
        "request_received": "receipt of the request",
        "last_order": "the last order",
    },
    "fr": {
        "collection": "la collecte",
        "last_contact": "le dernier contact",
        "contract_start": "le début du contrat",
        "contract_end": "la fin du contrat",
        "transaction": "la transaction",
        "request_closed": "la clôture de la demande",
        "app_connection": "la dernière connexion à l'application",
        "consent_withdrawn": "le retrait du consentement",
        "settlement": "le règlement",
        "event": "l'événement",
        "termination": "la résiliation",
        "user_deletion": "votre demande de suppression",
        "contest_end": "la fin du jeu",
        "request_received": "la réception de la demande",
        "last_order": "la dernière commande",
    },
}


def _duration_words(duration: str, language: str) -> str:
    # catalogs use hours after T and never minutes, so T can be dropped
    parts = re.findall(r"(\d+)([YMWDH])", duration.replace("T", ""))
    words = [f"{int(n)} {_UNITS[language][u][0 if int(n) == 1 else 1]}" for n, u in parts if int(n)]
    return " ".join(words)


def retention_words(rule: RetentionRule, language: str = "en") -> str:
    """A retention rule as a sentence for people, e.g. "3 years from the last contact, or
    until the withdrawal of consent if sooner; then erased"."""
    anchors = _ANCHORS[language]
    span = _duration_words(rule.duration, language)
    anchor = anchors.get(rule.anchor, rule.anchor)
    if language == "fr":
        text = f"{span} à compter de {anchor}" if span else f"jusqu'à {anchor}"
        if rule.ends_early_on:
            text += (
                f", ou jusqu'à {anchors.get(rule.ends_early_on, rule.ends_early_on)} si plus tôt"
            )
        text += ", puis " + ("effacées" if rule.action == "erase" else "anonymisées")
    else:
        text = f"{span} from {anchor}" if span else f"until {anchor}"
        if rule.ends_early_on:
            text += f", or until {anchors.get(rule.ends_early_on, rule.ends_early_on)} if sooner"
        text += ", then " + ("erased" if rule.action == "erase" else "anonymised")
    if rule.then is not None:
        text += "; " + retention_words(rule.then, language)
    if language == "fr":  # French contracts "de le" and "à le"
        text = text.replace(" de le ", " du ").replace(" à le ", " au ")
        text = text.replace("jusqu'à le ", "jusqu'au ")
    return text
