"""Judge an event against the catalog in force at its valid time. Pure: no I/O.

Facts that may turn out unlawful (processing on the wrong basis) are accepted and
judged later by the lawfulness projection: refusing them would hide them. That covers
processing on a withdrawn consent or during a restriction, a claimed basis other than the
declared one, and a transfer outside the EEA without a safeguard or on an adequacy
decision that does not exist (docs/REGULATORS.md). What is refused here is what the
catalog cannot make sense of: unknown purposes, categories or recipients, consent for a
purpose that does not rest on consent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from ledger.contract import events as ev
from ledger.contract.families.requests import RequestEvent
from ledger.contract.rejection import Rejection
from ledger.contract.vocabulary import LegalBasis
from ledger.policy.catalog import Catalog, Catalogs, Purpose
from ledger.policy.publish import check_publication
from ledger.policy.requests import REQUESTS_KEY_CLASS

#: How far in the future an ``occurred_at`` may lie: producers' clocks drift a little.
MAX_CLOCK_SKEW = timedelta(minutes=5)

#: Bases a subject may object to (GDPR Art. 21(1)).
OBJECTABLE = frozenset({LegalBasis.legitimate_interest, LegalBasis.public_task})


def check(event: ev.LedgerEvent, catalogs: Catalogs, now: datetime) -> list[Rejection]:
    """Every way ``event`` breaks the policy; empty when it conforms."""
    if event.occurred_at > now + MAX_CLOCK_SKEW:
        minutes = int(MAX_CLOCK_SKEW.total_seconds() // 60)
        return [
            Rejection(
                "occurred_at",
                f"lies more than {minutes} minutes in the future",
                "send the time the event happened, in UTC or with its zone",
            )
        ]
    if isinstance(event, ev.PolicyPublished):
        return check_publication(event)
    held = _hold_identity(event, now)
    if held:
        return held
    catalog = catalogs.in_force(event.controller, event.occurred_at)
    if catalog is None:
        return [_no_catalog(event, catalogs)]
    undeclared = _undeclared_processor(event, catalog)
    if undeclared:
        return undeclared
    rule = _RULES.get(type(event))
    return [] if rule is None else rule(event, catalog)


def _undeclared_processor(event: ev.LedgerEvent, catalog: Catalog) -> list[Rejection]:
    """A processor acting for the controller must be one its catalog declares (Art. 28,
    30(1)(d)): otherwise the record of processing would name a stranger."""
    processor = getattr(event, "processor", None)
    declared = {r.id for r in catalog.recipients if r.role == "processor"}
    if processor is None or processor in declared:
        return []
    return [
        Rejection(
            "processor",
            f"{processor!r} is not a processor declared in catalog "
            f"{catalog.controller.id} {catalog.version}",
            f"use one of: {', '.join(sorted(declared)) or 'none declared'}, or declare it in "
            'the catalog\'s recipients with role = "processor" and publish the catalog',
        )
    ]


def retention_class(event: ev.LedgerEvent, catalogs: Catalogs) -> str:
    """The key class the personal fields of a checked event are sealed under."""
    catalog = catalogs.in_force(event.controller, event.occurred_at)
    assert catalog is not None
    if isinstance(event, ev.DataCollected | ev.DataRectified):
        (only,) = {p.key_class for p in catalog.purposes if p.id in event.purposes}
        return only
    if isinstance(event, ev.ConsentGiven | ev.ObjectionRaised):
        purpose = catalog.purpose(event.purpose)
        assert purpose is not None
        return purpose.key_class
    # the free-text notes of restrictions and holds are about handling the person's
    # rights, like a request's details: erased with the subject
    if isinstance(
        event,
        RequestEvent
        | ev.RestrictionApplied
        | ev.RestrictionLifted
        | ev.LegalHoldPlaced
        | ev.LegalHoldReleased,
    ):
        return REQUESTS_KEY_CLASS
    raise TypeError(f"{type(event).__name__} has no personal fields to seal")


def _no_catalog(event: ev.LedgerEvent, catalogs: Catalogs) -> Rejection:
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


def _purpose(
    field: str, purpose_id: str, catalog: Catalog, found: list[Rejection]
) -> Purpose | None:
    purpose = catalog.purpose(purpose_id)
    if purpose is None:
        known = ", ".join(p.id for p in catalog.purposes)
        found.append(
            Rejection(
                field,
                f"unknown purpose in catalog {catalog.controller.id} {catalog.version}",
                f"use one of: {known}",
            )
        )
    return purpose


def _categories(
    field: str,
    used: Iterable[str],
    purposes: list[Purpose],
    catalog: Catalog,
    found: list[Rejection],
) -> None:
    allowed = {c for p in purposes for c in p.categories}
    names = ", ".join(p.id for p in purposes)
    for i, category in enumerate(used):
        if category not in allowed:
            found.append(
                Rejection(
                    field.format(i=i),
                    f"category {category!r} is not collected for purposes {names} in catalog "
                    f"{catalog.version}",
                    f"use one of: {', '.join(sorted(allowed))}, or declare it in the catalog",
                )
            )


def _values(event: ev.DataCollected | ev.DataRectified, catalog: Catalog) -> list[Rejection]:
    found: list[Rejection] = []
    purposes = [
        p
        for i, pid in enumerate(event.purposes)
        if (p := _purpose(f"purposes.{i}", pid, catalog, found))
    ]
    if found:
        return found
    _categories("values.{i}.category", (v.category for v in event.values), purposes, catalog, found)
    classes = sorted({p.key_class for p in purposes})
    if len(classes) > 1:
        found.append(
            Rejection(
                "purposes",
                f"purposes have different retention ({', '.join(classes)}), so their "
                "data cannot share one key",
                "emit one event per retention class",
            )
        )
    return found


def _consent_based(purpose_id: str, catalog: Catalog, found: list[Rejection]) -> Purpose | None:
    purpose = _purpose("purpose", purpose_id, catalog, found)
    if purpose is not None and purpose.basis is not LegalBasis.consent:
        found.append(
            Rejection(
                "purpose",
                f"purpose {purpose_id!r} rests on {purpose.basis.value}, not consent",
                "record consent only for consent-based purposes; object with ObjectionRaised",
            )
        )
    return purpose


def _consent_given(event: ev.ConsentGiven, catalog: Catalog) -> list[Rejection]:
    found: list[Rejection] = []
    purpose = _consent_based(event.purpose, catalog, found)
    if purpose is not None:
        _categories("categories.{i}", event.categories, [purpose], catalog, found)
        _recipients("recipients.{i}", event.recipients, purpose, found)
    return found


def _consent_withdrawn(event: ev.ConsentWithdrawn, catalog: Catalog) -> list[Rejection]:
    found: list[Rejection] = []
    _consent_based(event.purpose, catalog, found)
    return found


def _objection(event: ev.ObjectionRaised, catalog: Catalog) -> list[Rejection]:
    found: list[Rejection] = []
    purpose = _purpose("purpose", event.purpose, catalog, found)
    if purpose is not None and purpose.basis not in OBJECTABLE:
        found.append(
            Rejection(
                "purpose",
                f"purpose {event.purpose!r} rests on {purpose.basis.value}; Art. 21 "
                "objections apply to legitimate interest or public task",
                "for a consent-based purpose record ConsentWithdrawn",
            )
        )
    return found


def _processed(event: ev.DataProcessed, catalog: Catalog) -> list[Rejection]:
    found: list[Rejection] = []
    purpose = _purpose("purpose", event.purpose, catalog, found)
    if purpose is not None:
        _categories("categories.{i}", event.categories, [purpose], catalog, found)
    return found


def _recipients(field: str, used: Iterable[str], purpose: Purpose, found: list[Rejection]) -> None:
    for i, recipient in enumerate(used):
        if recipient not in purpose.recipients:
            listed = ", ".join(purpose.recipients) or "none"
            found.append(
                Rejection(
                    field.format(i=i),
                    f"recipient {recipient!r} is not declared for purpose {purpose.id!r}",
                    f"use one of: {listed}, or declare it in the catalog",
                )
            )


def _shared(event: ev.DataShared, catalog: Catalog) -> list[Rejection]:
    found: list[Rejection] = []
    purpose = _purpose("purpose", event.purpose, catalog, found)
    if purpose is None:
        return found
    _categories("categories.{i}", event.categories, [purpose], catalog, found)
    _recipients("recipient", [event.recipient], purpose, found)
    declared = next((r for r in catalog.recipients if r.id == event.recipient), None)
    if declared is not None:
        if declared.role != event.recipient_role.value:
            found.append(
                Rejection(
                    "recipient_role",
                    f"the catalog declares {declared.id} as {declared.role}",
                    f"use {declared.role}",
                )
            )
        if declared.country != event.country:
            found.append(
                Rejection(
                    "country",
                    f"the catalog declares {declared.id} in {declared.country}",
                    "correct the country, or the catalog",
                )
            )
    # A transfer outside the EEA without a valid safeguard is recorded, then judged
    # unlawful (projections.lawfulness): refusing it would leave it unrecorded.
    return found


def _scoped(event: Any, catalog: Catalog) -> list[Rejection]:
    found: list[Rejection] = []
    scope: ev.Scope = event.scope
    if scope.purpose is not None:
        _purpose("scope.purpose", scope.purpose, catalog, found)
    if scope.category is not None and scope.category not in {c.id for c in catalog.categories}:
        found.append(
            Rejection(
                "scope.category",
                "unknown data category",
                "use one of: " + ", ".join(c.id for c in catalog.categories),
            )
        )
    return found


def _hold_identity(event: ev.LedgerEvent, now: datetime) -> list[Rejection]:
    """Holds are individual: a release names the hold it ends (one case's release must not
    end another's), and a hold that has lapsed before it is placed protects nothing."""
    if isinstance(event, ev.LegalHoldReleased) and event.hold_id is None:
        return [
            Rejection(
                "hold_id",
                "a release must name the hold it ends; without it every hold on the scope "
                "would end",
                "give the hold_id that LegalHoldPlaced carried (`pdl hold list` shows them)",
            )
        ]
    if isinstance(event, ev.LegalHoldPlaced):
        until = event.until
        if until is not None and until <= max(now, event.occurred_at):
            return [
                Rejection(
                    "until",
                    "lies in the past: the hold would protect nothing",
                    "give an until in the future, or none (the hold lasts until released)",
                )
            ]
    return []


def _anchor(event: ev.RetentionAnchorRecorded, catalog: Catalog) -> list[Rejection]:
    found: list[Rejection] = []
    if event.purpose is not None:
        _purpose("purpose", event.purpose, catalog, found)
    anchors = sorted({p.retention.anchor for p in catalog.purposes})
    if event.anchor not in anchors:
        found.append(
            Rejection(
                "anchor",
                f"no retention rule of {catalog.controller.id} counts from {event.anchor!r}",
                f"use one of: {', '.join(anchors)}",
            )
        )
    return found


_RULES: dict[type[ev.LedgerEvent], Callable[[Any, Catalog], list[Rejection]]] = {
    ev.DataCollected: _values,
    ev.DataRectified: _values,
    ev.ConsentGiven: _consent_given,
    ev.ConsentWithdrawn: _consent_withdrawn,
    ev.ObjectionRaised: _objection,
    ev.DataProcessed: _processed,
    ev.DataShared: _shared,
    ev.RestrictionApplied: _scoped,
    ev.RestrictionLifted: _scoped,
    ev.ErasureRequested: _scoped,
    ev.DataErased: _scoped,
    ev.LegalHoldPlaced: _scoped,
    ev.LegalHoldReleased: _scoped,
    ev.RetentionAnchorRecorded: _anchor,
}
