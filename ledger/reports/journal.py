"""The service's queries bound to a reading's T and K: what a report counts is what was
valid by T and recorded by K (``ledger.service.queries`` replays the journal and looks
the basis facts up; this module only fixes the instants and leaves out the rest).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ledger.reports.reading import Reading, iso
from ledger.service import queries
from projections.base import Recorded
from projections.basis import BasisFacts
from projections.subject_state import SubjectState


@dataclass(frozen=True)
class SubjectHistory:
    """One subject's events valid by T and recorded by K, and the state they fold to."""

    subject_id: str
    events: tuple[Recorded, ...]
    state: SubjectState


def subject_events(reading: Reading, subject_id: str) -> list[Recorded]:
    """The subject's events valid by T and recorded by K, in valid-time order."""
    return queries.journal_events(reading.ledger, subject_id, reading.at, reading.known_at)


def subject_history(reading: Reading, subject_id: str) -> SubjectHistory:
    events = subject_events(reading, subject_id)
    return SubjectHistory(subject_id, tuple(events), queries.fold_state(subject_id, events))


def import_claims(reading: Reading, subject_id: str) -> dict[str, dict[str, str | None]]:
    """What each of the subject's imported events claims, by event_id: the source system
    and when it says it recorded the fact. Shown next to the fact, never used to date what
    the ledger knew (that is record time)."""
    return {
        r.event.event_id: {"source": claim.source, "recorded_at": iso(claim.recorded_at)}
        for r in subject_events(reading, subject_id)
        if (claim := r.event.imported) is not None
    }


def histories(reading: Reading) -> Iterator[SubjectHistory]:
    """Every subject's history as of T (subjects with no event by then are left out)."""
    for subject_id in queries.subject_ids(reading.ledger):
        history = subject_history(reading, subject_id)
        if history.events:
            yield history


def basis_facts(reading: Reading, subject_id: str, controller: str, purpose: str) -> BasisFacts:
    """The facts bearing on a purpose's basis for a subject, valid by T, recorded by K."""
    facts = queries.basis_facts(reading.ledger, subject_id, purpose, controller)
    return queries.facts_as_of(facts, reading.at, reading.horizon)


def purpose_basis_facts(reading: Reading, controller: str, purpose: str | None) -> list[BasisFacts]:
    """Every subject's basis facts for one purpose of a controller (every purpose if
    ``purpose`` is None) with a fact valid by T and recorded by K, by subject id."""
    found = (
        queries.facts_as_of(facts, reading.at, reading.horizon)
        for facts in queries.purpose_basis_facts(reading.ledger, controller, purpose)
    )
    return [facts for facts in found if facts.facts]
