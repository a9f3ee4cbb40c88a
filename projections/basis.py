"""The facts that decide a purpose's legal basis for one subject, in both times.

State per (subject, controller, purpose): every consent, withdrawal, objection,
restriction, processing and disclosure fact, with its valid time (``occurred_at``) and
record time (when the log appended it), sorted by valid time then event id. Restrictions
of the whole subject or of a data category bear on every purpose: they are kept under the
purpose ``*`` (``SUBJECT_WIDE``) and joined to each purpose's facts on reading
(``with_subject_wide``). Inserting a fact is
commutative, so any interleaving of topics and partitions gives the same state; the
questions (what basis at T, as known at K) are answered by ``projections.lawfulness``.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ledger.contract import events as ev
from ledger.contract.canonical import projection_state_text
from ledger.contract.vocabulary import ScopeKind
from projections.base import Projection, Recorded, changed

FactKind = Literal[
    "consent_given",
    "consent_withdrawn",
    "objection",
    "restricted",
    "unrestricted",
    "processed",
    "shared",
]

#: The key slot of restrictions scoped to the whole subject or to a data category.
SUBJECT_WIDE = "*"


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FactKind
    valid_at: datetime
    recorded_at: datetime
    event_id: str
    position: str
    claimed_basis: str | None = None
    expires_at: datetime | None = None
    system: str | None = None
    #: a restriction's scope: "subject", "purpose:<id>" or "category:<id>"
    scope: str | None = None
    #: data categories processed or shared; for a consent, those it covers (empty: all)
    categories: tuple[str, ...] = ()
    #: recipients a consent names (empty: those the purpose declares)
    recipients: tuple[str, ...] = ()
    #: for a disclosure: the recipient, where it received the data, and the safeguard claimed
    recipient: str | None = None
    country: str | None = None
    safeguard: str | None = None

    @property
    def order(self) -> tuple[datetime, str]:
        return self.valid_at, self.event_id


class BasisFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_id: str
    controller: str
    purpose: str
    facts: tuple[Fact, ...] = ()


def basis_key(subject_id: str, controller: str, purpose: str) -> str:
    return f"{subject_id}|{controller}|{purpose}"


def _fact(recorded: Recorded, kind: FactKind, **extra: object) -> Fact:
    e = recorded.event
    return Fact.model_validate(
        {
            "kind": kind,
            "valid_at": e.occurred_at,
            "recorded_at": recorded.recorded_at,
            "event_id": e.event_id,
            "position": recorded.position,
            **extra,
        }
    )


def slot_of(event: ev.LedgerEvent) -> str | None:
    """The purpose an event adds a fact to (``SUBJECT_WIDE`` for a restriction of the
    subject or of a category), or None if it adds none: what ``fact_of`` would say,
    without building the fact."""
    if isinstance(event, _PURPOSED):
        return event.purpose
    if isinstance(event, ev.RestrictionApplied | ev.RestrictionLifted):
        slot = event.scope.purpose if event.scope.kind is ScopeKind.purpose else SUBJECT_WIDE
        return slot or SUBJECT_WIDE
    return None


_PURPOSED = (
    ev.ConsentGiven,
    ev.ConsentWithdrawn,
    ev.ObjectionRaised,
    ev.DataProcessed,
    ev.DataShared,
)


def fact_of(recorded: Recorded) -> tuple[str, Fact] | None:
    """The purpose a recorded event speaks about (``SUBJECT_WIDE`` for a restriction of
    the subject or of a category) and the fact it adds, if any."""
    e = recorded.event
    if isinstance(e, ev.ConsentGiven):
        return e.purpose, _fact(
            recorded,
            "consent_given",
            expires_at=e.expires_at,
            categories=tuple(e.categories),
            recipients=tuple(e.recipients),
        )
    if isinstance(e, ev.ConsentWithdrawn):
        return e.purpose, _fact(recorded, "consent_withdrawn")
    if isinstance(e, ev.ObjectionRaised):
        return e.purpose, _fact(recorded, "objection")
    if isinstance(e, ev.DataProcessed):
        return e.purpose, _fact(
            recorded,
            "processed",
            claimed_basis=e.claimed_basis.value,
            system=e.system,
            categories=tuple(e.categories),
        )
    if isinstance(e, ev.DataShared):
        return e.purpose, _fact(
            recorded,
            "shared",
            categories=tuple(e.categories),
            recipient=e.recipient,
            country=e.country,
            safeguard=None if e.safeguard is None else e.safeguard.value,
        )
    if isinstance(e, ev.RestrictionApplied | ev.RestrictionLifted):
        kind: FactKind = "restricted" if isinstance(e, ev.RestrictionApplied) else "unrestricted"
        return slot_of(e) or SUBJECT_WIDE, _fact(recorded, kind, scope=e.scope.label())
    return None


def _order(fact: Fact) -> tuple[datetime, str]:
    return fact.order


def with_subject_wide(facts: BasisFacts, wide: BasisFacts | None) -> BasisFacts:
    """A purpose's facts joined with the subject's restrictions of every purpose."""
    if wide is None or not wide.facts:
        return facts
    merged = {f.event_id: f for f in (*facts.facts, *wide.facts)}
    ordered = tuple(sorted(merged.values(), key=lambda f: f.order))
    return facts.model_copy(update={"facts": ordered})


class BasisFactsProjection(Projection[BasisFacts]):
    name = "basis_facts"
    #: 2: states kept as pydantic's JSON (``projection_state_text``), not sorted json.dumps;
    #: 3: without the facts' fields that hold their defaults
    revision = 3

    def key_of(self, recorded: Recorded) -> str | None:
        event = recorded.event
        slot = slot_of(event)
        if slot is None or not isinstance(event, ev.SubjectEvent):
            return None
        return basis_key(event.subject_id, event.controller, slot)

    def initial(self, key: str) -> BasisFacts:
        subject_id, controller, purpose = key.split("|", 2)
        return BasisFacts(subject_id=subject_id, controller=controller, purpose=purpose)

    def apply(self, state: BasisFacts, recorded: Recorded) -> BasisFacts:
        found = fact_of(recorded)
        assert found is not None
        fact = found[1]
        if any(f.event_id == fact.event_id for f in state.facts):
            return state  # the same event twice (a producer retry) adds nothing
        facts = list(state.facts)  # already in order: the new fact goes in its place
        bisect.insort(facts, fact, key=_order)
        return changed(state, {"facts": tuple(facts)})

    def dump(self, state: BasisFacts) -> str:
        # Most of a fact's optional fields are empty: leaving them out makes the text a
        # third shorter, and its parsing (once per event when a rebuild's states outnumber
        # its cache) less than half as long.
        return projection_state_text(state, exclude_defaults=True)

    def load(self, text: str) -> BasisFacts:
        return BasisFacts.model_validate_json(text)
