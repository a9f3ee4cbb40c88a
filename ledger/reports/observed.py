"""What the ledger actually saw, tallied per controller from the subjects' events as of T
and as known at K: subjects and events per purpose, recipients shared with, transfers
and processors. Shared by the record of processing and the transfers report.

Counts only, and pseudonymous subject ids: nothing personal is tallied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.contract import events as ev
from ledger.contract.vocabulary import ScopeKind
from ledger.reports.reading import iso
from projections.base import Recorded


def event_purposes(event: ev.LedgerEvent) -> tuple[str, ...]:
    """The purposes an event names (none for subject- or category-wide events)."""
    if isinstance(event, ev.DataCollected | ev.DataRectified):
        return tuple(event.purposes)
    if isinstance(
        event,
        ev.ConsentGiven
        | ev.ConsentWithdrawn
        | ev.ObjectionRaised
        | ev.DataProcessed
        | ev.DataShared,
    ):
        return (event.purpose,)
    if isinstance(event, ev.RetentionAnchorRecorded):
        return (event.purpose,) if event.purpose else ()
    scope = getattr(event, "scope", None)
    if isinstance(scope, ev.Scope) and scope.kind is ScopeKind.purpose and scope.purpose:
        return (scope.purpose,)
    return ()


@dataclass
class Tally:
    subjects: set[str] = field(default_factory=set)
    events: int = 0

    def add(self, subject_id: str) -> None:
        self.subjects.add(subject_id)
        self.events += 1


@dataclass
class ShareTally:
    """Shares of one controller's data with one recipient, country and safeguard."""

    recipient: str
    role: str
    country: str
    safeguard: str | None
    purposes: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    shares: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None

    def add(self, subject_id: str, event: ev.DataShared) -> None:
        self.purposes.add(event.purpose)
        self.subjects.add(subject_id)
        self.shares += 1
        at = event.occurred_at
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)

    def as_json(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "role": self.role,
            "country": self.country,
            "safeguard": self.safeguard,
            "purposes": sorted(self.purposes),
            "subjects": len(self.subjects),
            "shares": self.shares,
            "first_at": iso(self.first_at),
            "last_at": iso(self.last_at),
        }


@dataclass
class ControllerTally:
    """Everything seen for one controller."""

    overall: Tally = field(default_factory=Tally)
    purposes: dict[str, Tally] = field(default_factory=dict)
    processing: dict[str, int] = field(default_factory=dict)
    shares: dict[tuple[str, str, str | None], ShareTally] = field(default_factory=dict)
    #: processors seen acting for the controller (the events' ``processor`` field)
    processors: dict[str, Tally] = field(default_factory=dict)

    def add(self, subject_id: str, event: ev.LedgerEvent) -> None:
        self.overall.add(subject_id)
        for purpose in event_purposes(event):
            self.purposes.setdefault(purpose, Tally()).add(subject_id)
        if isinstance(event, ev.DataProcessed):
            self.processing[event.purpose] = self.processing.get(event.purpose, 0) + 1
        if isinstance(event, ev.DataShared):
            safeguard = None if event.safeguard is None else event.safeguard.value
            slot = (event.recipient, event.country, safeguard)
            if slot not in self.shares:
                role = event.recipient_role.value
                self.shares[slot] = ShareTally(event.recipient, role, event.country, safeguard)
            self.shares[slot].add(subject_id, event)
        if event.processor:
            self.processors.setdefault(event.processor, Tally()).add(subject_id)

    def shares_with(self, recipient: str) -> list[ShareTally]:
        return [
            s for (r, _, _), s in sorted(self.shares.items(), key=_share_order) if r == recipient
        ]

    def recipients_for(self, purpose: str) -> list[str]:
        return sorted({s.recipient for s in self.shares.values() if purpose in s.purposes})


def _share_order(item: tuple[tuple[str, str, str | None], ShareTally]) -> tuple[str, str, str]:
    (recipient, country, safeguard), _ = item
    return recipient, country, safeguard or ""


def tally(events: Iterable[tuple[str, Recorded]]) -> dict[str, ControllerTally]:
    """Per controller, from (subject id, recorded event) pairs."""
    found: dict[str, ControllerTally] = {}
    for subject_id, recorded in events:
        event = recorded.event
        found.setdefault(event.controller, ControllerTally()).add(subject_id, event)
    return found


@dataclass
class ServedTally:
    """Processing a processor did on behalf of one controller (Art. 30(2)): the events
    naming it as ``processor``, with what they were (categories of processing)."""

    subjects: set[str] = field(default_factory=set)
    events: int = 0
    purposes: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    first_at: datetime | None = None
    last_at: datetime | None = None

    def add(self, subject_id: str, event: ev.LedgerEvent) -> None:
        self.subjects.add(subject_id)
        self.events += 1
        self.purposes.update(event_purposes(event))
        self.kinds.add(type(event).__name__)
        at = event.occurred_at
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)


def served(events: Iterable[tuple[str, Recorded]]) -> dict[str, dict[str, ServedTally]]:
    """Per processor id, per controller id served: what the processor did for others.
    An event a controller records about its own processing (processor = itself, or none)
    is not processing on another's behalf."""
    found: dict[str, dict[str, ServedTally]] = {}
    for subject_id, recorded in events:
        event = recorded.event
        if event.processor is None or event.processor == event.controller:
            continue
        per_controller = found.setdefault(event.processor, {})
        per_controller.setdefault(event.controller, ServedTally()).add(subject_id, event)
    return found
