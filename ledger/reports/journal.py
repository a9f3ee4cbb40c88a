"""Read-only access to the projection store for reports: every subject, each subject's
events as of T and as known at K (from the journal), its state folded from them, and
the basis facts of a purpose.

The journal holds each applied subject event sealed, as the log holds it, indexed by
subject and valid time; folding it up to T gives the state at T without reading the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from consumers.decode import decode
from ledger.errors import Failure
from ledger.log.base import LogRecord
from ledger.reports.reading import Reading
from projections.base import Recorded
from projections.basis import BasisFacts, BasisFactsProjection, basis_key
from projections.subject_state import SubjectState, SubjectStateProjection


@dataclass(frozen=True)
class SubjectHistory:
    """One subject's events valid by T and recorded by K, and the state they fold to."""

    subject_id: str
    events: tuple[Recorded, ...]
    state: SubjectState


def subject_ids(reading: Reading) -> list[str]:
    """Every subject the projections know, sorted."""
    return [key for key, _ in reading.ledger.store.states(SubjectStateProjection.name)]


def subject_events(reading: Reading, subject_id: str) -> list[Recorded]:
    """The subject's events valid by T and recorded by K, in valid-time order."""
    known = reading.known_at
    horizon_ms = None if known is None else known.timestamp() * 1000
    found = []
    for entry in reading.ledger.store.journal(subject_id, until=reading.at):
        if horizon_ms is not None and entry.recorded_ms > horizon_ms:
            continue
        record = LogRecord(
            entry.topic,
            entry.partition,
            entry.offset,
            subject_id.encode(),
            entry.value,
            entry.recorded_ms,
        )
        recorded = decode(record, reading.ledger.registry)
        if isinstance(recorded, str):
            raise Failure(
                f"journal entry {entry.topic}/{entry.partition}/{entry.offset} no longer "
                f"decodes: {recorded} — fix: run `pdl rebuild`"
            )
        found.append(recorded)
    return found


def subject_history(reading: Reading, subject_id: str) -> SubjectHistory:
    projection = SubjectStateProjection()
    events = subject_events(reading, subject_id)
    state = projection.initial(subject_id)
    for recorded in events:
        state = projection.apply(state, recorded)
    return SubjectHistory(subject_id, tuple(events), state)


def histories(reading: Reading) -> Iterator[SubjectHistory]:
    """Every subject's history as of T (subjects with no event by then are left out)."""
    for subject_id in subject_ids(reading):
        history = subject_history(reading, subject_id)
        if history.events:
            yield history


def basis_facts(reading: Reading, subject_id: str, controller: str, purpose: str) -> BasisFacts:
    """The facts bearing on a purpose's basis for a subject, valid by T, recorded by K."""
    projection = BasisFactsProjection()
    text = reading.ledger.store.state(projection.name, basis_key(subject_id, controller, purpose))
    facts = projection.initial(basis_key(subject_id, controller, purpose))
    if text is not None:
        facts = projection.load(text)
    return known_by(facts, reading)


def purpose_basis_facts(reading: Reading, controller: str, purpose: str | None) -> list[BasisFacts]:
    """Every subject's basis facts for one purpose of a controller (every purpose if
    ``purpose`` is None), by subject id."""
    projection = BasisFactsProjection()
    found = []
    for key, text in reading.ledger.store.states(projection.name):
        _, key_controller, key_purpose = key.split("|", 2)
        if key_controller == controller and purpose in (None, key_purpose):
            facts = known_by(projection.load(text), reading)
            if facts.facts:
                found.append(facts)
    return found


def controllers_with_facts(reading: Reading, purpose: str | None) -> list[str]:
    """The controllers with basis facts (consent, objection, processing...) for a purpose."""
    found = set()
    for key, _ in reading.ledger.store.states(BasisFactsProjection.name):
        _, controller, key_purpose = key.split("|", 2)
        if key_purpose == purpose:
            found.add(controller)
    return sorted(found)


def known_by(facts: BasisFacts, reading: Reading) -> BasisFacts:
    """Only the facts valid by T that the ledger had recorded by K: a report about T
    says nothing of what happened after it."""
    kept = tuple(
        f for f in facts.facts if f.valid_at <= reading.at and f.recorded_at <= reading.horizon
    )
    return facts.model_copy(update={"facts": kept})
