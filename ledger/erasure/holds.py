"""Why data survives an erasure request (GDPR Art. 17(3)). Pure.

Two grounds keep a class of a subject's data:

- **legal obligation** — the catalog says so: a purpose resting on ``legal_obligation``
  (Art. 17(3)(b)) or marked ``legal_hold = true`` (kept for legal claims, 17(3)(e)). It
  lasts until the purpose's retention rule falls due for this subject (e.g. 10 years
  from the transaction); after that the data is erased like any other.
- **legal hold** — an active ``LegalHoldPlaced`` for a scope covering the class (from the
  subject-state projection), with the article it names, until released or ``until``.
  Holds are individual: each is released by its id, so one case closing leaves another
  case's hold on the same scope in force.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ledger.contract.vocabulary import LegalBasis
from ledger.erasure.retention import SubjectFacts, rule_due
from ledger.erasure.scope import held_classes
from ledger.policy.catalog import Catalog, Catalogs, Purpose

OBLIGATION_ARTICLE = "Art. 17(3)(b)"
LEGAL_CLAIMS_ARTICLE = "Art. 17(3)(e)"


@dataclass(frozen=True)
class ActiveHold:
    """A legal hold as the subject-state projection keeps it (``holds``, by id)."""

    hold_id: str
    scope: str
    active: bool
    reason: str
    article: str | None
    until: datetime | None
    event_id: str
    position: str


@dataclass(frozen=True)
class RetentionGround:
    """One reason one retention class of the subject is kept."""

    retention_class: str
    ground: Literal["legal_obligation", "legal_hold"]
    article: str
    reason: str
    #: when the ground lapses; None: until released, or until an anchor not yet recorded
    expires: datetime | None
    source: str

    def as_json(self) -> dict[str, str | None]:
        return {
            "retention_class": self.retention_class,
            "ground": self.ground,
            "article": self.article,
            "reason": self.reason,
            "source": self.source,
            "expires": self.expires.isoformat() if self.expires else None,
        }


def keeps_by_obligation(purpose: Purpose) -> bool:
    return purpose.legal_hold or purpose.basis is LegalBasis.legal_obligation


def obligation_grounds(
    facts: SubjectFacts,
    catalogs: Catalogs,
    now: datetime,
    classes: Collection[str],
    requester: str,
) -> list[RetentionGround]:
    """Catalog obligations still running for the subject's data in ``classes``: those of
    the ``requester`` (the controller asking for erasure) and of every other controller
    that collected data of the class (keys are per subject and class, not per
    controller, so another controller's duty protects a shared class too). When no
    collection of the class is known, the obligation is kept with no known end."""
    grounds = []
    for controller in catalogs.controllers():
        catalog = catalogs.in_force(controller, now)
        if catalog is None:
            continue
        for purpose in catalog.purposes:
            if purpose.key_class not in classes or not keeps_by_obligation(purpose):
                continue
            collected = [
                c.occurred_at
                for c in facts.collected
                if c.controller == controller and c.retention_class == purpose.key_class
            ]
            if not collected and controller != requester:
                continue  # this controller holds none of the class: its duty does not apply
            # the obligation lasts as long as the latest record it covers
            expires, how = rule_due(
                purpose.retention,
                facts,
                controller,
                purpose.id,
                max(collected, default=None),
                catalog.controller.zone,
            )
            if expires is not None and expires <= now:
                continue  # the obligation has run out: the data goes like any other
            grounds.append(
                RetentionGround(
                    purpose.key_class,
                    "legal_obligation",
                    OBLIGATION_ARTICLE
                    if purpose.basis is LegalBasis.legal_obligation
                    else LEGAL_CLAIMS_ARTICLE,
                    f"purpose {purpose.id} rests on {purpose.basis.value}"
                    + (" and is kept under legal hold" if purpose.legal_hold else "")
                    + f"; kept {how}",
                    expires,
                    f"catalog {controller} {catalog.version}, purpose {purpose.id}",
                )
            )
    return grounds


def hold_grounds(
    holds: Mapping[str, ActiveHold], catalog: Catalog, now: datetime, classes: Collection[str]
) -> list[RetentionGround]:
    """Active legal holds covering any of ``classes``."""
    grounds = []
    for hold in holds.values():
        if not hold.active or (hold.until is not None and hold.until <= now):
            continue
        for key_class in sorted(held_classes(hold.scope, catalog, classes) & set(classes)):
            grounds.append(
                RetentionGround(
                    key_class,
                    "legal_hold",
                    hold.article or LEGAL_CLAIMS_ARTICLE,
                    # the hold's id and article, never its free-text reason: certificates
                    # and reports outlive the erasure, and a reason may name the person
                    f"legal hold {hold.hold_id} on {hold.scope}",
                    hold.until,
                    f"LegalHoldPlaced {hold.event_id} at {hold.position}",
                )
            )
    return grounds


def retention_grounds(
    facts: SubjectFacts,
    holds: Mapping[str, ActiveHold],
    catalogs: Catalogs,
    catalog: Catalog,
    now: datetime,
    classes: Collection[str],
) -> list[RetentionGround]:
    """Every ground keeping one of ``classes`` at ``now``, by class."""
    found = [
        *obligation_grounds(facts, catalogs, now, classes, catalog.controller.id),
        *hold_grounds(holds, catalog, now, classes),
    ]
    return sorted(found, key=lambda g: (g.retention_class, g.ground, g.source))
