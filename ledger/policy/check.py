"""Judge an event against the catalog in force at its valid time. Pure: no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.contract.events import ConsentGiven, ConsentWithdrawn, DataCollected, LedgerEvent
from ledger.contract.rejection import Rejection
from ledger.policy.catalog import Catalog, Catalogs, LegalBasis

#: How far in the future an ``occurred_at`` may lie: producers' clocks drift a little.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def check(event: LedgerEvent, catalogs: Catalogs, now: datetime) -> list[Rejection]:
    """Every way ``event`` breaks the policy; empty when it conforms."""
    if event.occurred_at > now + MAX_CLOCK_SKEW:
        return [
            Rejection(
                "occurred_at",
                f"lies more than {int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes in the future",
                "send the time the event happened, in UTC or with its zone",
            )
        ]
    catalog = catalogs.in_force(event.controller, event.occurred_at)
    if catalog is None:
        return [_no_catalog(event, catalogs)]
    if isinstance(event, DataCollected):
        return _check_collected(event, catalog)
    if isinstance(event, ConsentGiven | ConsentWithdrawn):
        return _check_consent(event.purpose, catalog)
    return []


def retention_class(event: LedgerEvent, catalogs: Catalogs) -> str:
    """The key class personal fields of a (checked) event are sealed under."""
    catalog = catalogs.in_force(event.controller, event.occurred_at)
    assert catalog is not None and isinstance(event, DataCollected)
    classes = {p.key_class for p in catalog.purposes if p.id in event.purposes}
    (only,) = classes
    return only


def _no_catalog(event: LedgerEvent, catalogs: Catalogs) -> Rejection:
    earliest = catalogs.earliest(event.controller)
    if earliest is None:
        known = ", ".join(catalogs.controllers()) or "none"
        return Rejection(
            "controller",
            "unknown controller",
            f"use a controller with a published catalog (known: {known}), "
            "or publish its catalog first",
        )
    return Rejection(
        "occurred_at",
        f"no policy of {event.controller} was in force then "
        f"(earliest version effective {earliest.effective_from.isoformat()})",
        "check the timestamp, or publish the catalog version that was in force",
    )


def _check_collected(event: DataCollected, catalog: Catalog) -> list[Rejection]:
    found: list[Rejection] = []
    purposes = []
    for i, purpose_id in enumerate(event.purposes):
        purpose = catalog.purpose(purpose_id)
        if purpose is None:
            found.append(_unknown_purpose(f"purposes.{i}", catalog))
        else:
            purposes.append(purpose)
    if found:
        return found
    allowed = {c for p in purposes for c in p.categories}
    for i, value in enumerate(event.values):
        if value.category not in allowed:
            found.append(
                Rejection(
                    f"values.{i}.category",
                    f"category {value.category!r} is not collected for purposes "
                    f"{', '.join(event.purposes)} in catalog {catalog.version}",
                    f"use one of: {', '.join(sorted(allowed))}",
                )
            )
    classes = sorted({p.key_class for p in purposes})
    if len(classes) > 1:
        found.append(
            Rejection(
                "purposes",
                f"purposes have different retention ({', '.join(classes)}), so their data "
                "cannot share one key",
                "emit one DataCollected per retention class",
            )
        )
    return found


def _check_consent(purpose_id: str, catalog: Catalog) -> list[Rejection]:
    purpose = catalog.purpose(purpose_id)
    if purpose is None:
        return [_unknown_purpose("purpose", catalog)]
    if purpose.basis is not LegalBasis.consent:
        return [
            Rejection(
                "purpose",
                f"purpose {purpose_id!r} rests on {purpose.basis.value}, not consent",
                "record consent only for consent-based purposes",
            )
        ]
    return []


def _unknown_purpose(field: str, catalog: Catalog) -> Rejection:
    known = ", ".join(p.id for p in catalog.purposes)
    return Rejection(
        field,
        f"unknown purpose in catalog {catalog.controller.id} {catalog.version}",
        f"use one of: {known}",
    )
