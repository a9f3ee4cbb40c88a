"""Questions about the ledger, answered from the projection store (service layer): the
one journal replay (a subject's events valid by T and recorded by K, and the state they
fold to) and the one basis-facts lookup, for ``pdl state``, ``pdl basis`` and the
reports alike. The caller lets the projections catch up first when it wants answers to
reflect the whole log.

The journal holds each applied subject event sealed, as the log holds it, indexed by
subject and valid time; folding it up to T gives the state at T without reading the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from consumers.decode import decode
from ledger.contract.base import is_subject_id
from ledger.contract.positions import LogPosition
from ledger.errors import IntegrityError, NotFound
from ledger.log.base import LogRecord, TopicPartition
from ledger.service import views
from ledger.service.backends import Backends
from projections.base import Recorded
from projections.basis import (
    SUBJECT_WIDE,
    BasisFacts,
    BasisFactsProjection,
    basis_key,
    with_subject_wide,
)
from projections.lawfulness import BasisAnswer, Judgement, basis_at, judge
from projections.subject_state import SubjectState, SubjectStateProjection


def resolve_subject(ledger: Backends, typed: str, controller: str | None = None) -> str:
    """The subject id of what a reader typed: the id itself, or a natural identifier (at
    ``controller``, needed when several controllers know it; ``views.resolve_subject``)."""
    if is_subject_id(typed):
        return typed  # the key store need not open (a 0.1 store is refused on open)
    return views.resolve_subject(ledger.keys, typed, controller)


def subject_view(
    ledger: Backends,
    typed: str,
    catch_up: bool = True,
    at: datetime | None = None,
    known_at: datetime | None = None,
    controller: str | None = None,
) -> dict[str, Any]:
    """What is held on a subject (``typed`` as ``resolve_subject`` reads it), personal
    values opened for the reader: now, or at ``at`` as known at ``known_at``. The
    projections catch up first unless ``catch_up`` is False."""
    subject_id = resolve_subject(ledger, typed, controller)
    if catch_up:
        ledger.catch_up()
    if at is not None:
        state = state_at(ledger, subject_id, at, known_at)
        if not state.events:
            raise NotFound(f"{subject_id}: no events recorded for this subject by then")
        return views.disclose_subject(state, ledger.keys)
    held = subject_state(ledger, subject_id)
    if held is None:
        raise NotFound(f"{subject_id}: no events recorded for this subject")
    return views.disclose_subject(held, ledger.keys)


def applied_positions(ledger: Backends) -> dict[TopicPartition, int]:
    """The log positions the projections have applied (topic/partition → next offset)."""
    return dict(ledger.store.checkpoints(ledger.topics.projections_group))


def subject_ids(ledger: Backends) -> list[str]:
    """Every subject the projections know, sorted."""
    return [key for key, _ in ledger.store.states(SubjectStateProjection.name)]


def subject_state(ledger: Backends, subject_id: str) -> SubjectState | None:
    """What is held on the subject now, or None if the ledger never heard of it."""
    projection = SubjectStateProjection()
    stored = ledger.store.state(projection.name, subject_id)
    return None if stored is None else projection.load(stored)


def journal_events(
    ledger: Backends, subject_id: str, at: datetime, known_at: datetime | None = None
) -> list[Recorded]:
    """The subject's events valid by ``at`` and recorded by ``known_at`` (everything
    recorded when None), in valid-time order."""
    horizon_ms = None if known_at is None else known_at.timestamp() * 1000
    found = []
    for entry in ledger.store.journal(subject_id, until=at):
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
        recorded = decode(record, ledger.registry)
        if isinstance(recorded, str):
            raise IntegrityError(
                f"journal entry {LogPosition.of(entry)} no longer decodes: {recorded}",
                fix="run `pdl rebuild`",
            )
        found.append(recorded)
    return found


def fold_state(subject_id: str, events: Iterable[Recorded]) -> SubjectState:
    """The state ``events`` (one subject's, in valid-time order) fold to."""
    projection = SubjectStateProjection()
    state = projection.initial(subject_id)
    for recorded in events:
        state = projection.apply(state, recorded)
    return state


def state_at(
    ledger: Backends, subject_id: str, at: datetime, known_at: datetime | None = None
) -> SubjectState:
    """The subject's state from the events valid by ``at`` (and recorded by ``known_at``)."""
    return fold_state(subject_id, journal_events(ledger, subject_id, at, known_at))


def basis_facts(
    ledger: Backends, subject_id: str, purpose: str, controller: str | None = None
) -> BasisFacts:
    """Every recorded fact bearing on a purpose's basis for a subject, restrictions of the
    whole subject and of categories included. Without a controller, the one holding facts
    for the purpose, else the only one declaring it."""
    projection = BasisFactsProjection()
    if controller is not None:
        key = basis_key(subject_id, controller, purpose)
        stored = ledger.store.state(projection.name, key)
        facts = projection.initial(key) if stored is None else projection.load(stored)
        return _with_subject_wide(ledger, facts)
    found = [
        projection.load(text)
        for key, text in ledger.store.states_with_prefix(projection.name, subject_id + "|")
        if key.endswith("|" + purpose)
    ]
    if len(found) > 1:
        names = ", ".join(f.controller for f in found)
        raise NotFound(
            f"purpose {purpose!r} of this subject exists for several controllers "
            f"({names}); choose one with --controller"
        )
    if found:
        return _with_subject_wide(ledger, found[0])
    controllers = ledger.catalogs.controllers_with_purpose(purpose)
    if len(controllers) != 1:
        raise NotFound(
            f"nothing recorded for purpose {purpose!r} of this subject; "
            "name its controller with --controller"
        )
    facts = BasisFacts(subject_id=subject_id, controller=controllers[0], purpose=purpose)
    return _with_subject_wide(ledger, facts)


def _with_subject_wide(ledger: Backends, facts: BasisFacts) -> BasisFacts:
    """The purpose's facts joined with the subject's restrictions of every purpose."""
    projection = BasisFactsProjection()
    stored = ledger.store.state(
        projection.name, basis_key(facts.subject_id, facts.controller, SUBJECT_WIDE)
    )
    return with_subject_wide(facts, None if stored is None else projection.load(stored))


def purpose_basis_facts(ledger: Backends, controller: str, purpose: str | None) -> list[BasisFacts]:
    """Every subject's basis facts for one purpose of a controller (every purpose if
    ``purpose`` is None), by subject id, restrictions of every purpose joined in."""
    projection = BasisFactsProjection()
    found, wide = [], {}
    for key, text in ledger.store.states(projection.name):
        subject_id, key_controller, key_purpose = key.split("|", 2)
        if key_controller != controller:
            continue
        if key_purpose == SUBJECT_WIDE:
            wide[subject_id] = projection.load(text)
        elif purpose in (None, key_purpose):
            found.append(projection.load(text))
    return [with_subject_wide(facts, wide.get(facts.subject_id)) for facts in found]


def controllers_with_facts(ledger: Backends, purpose: str | None) -> list[str]:
    """The controllers with basis facts (consent, objection, processing...) for a purpose."""
    found = set()
    for key, _ in ledger.store.states(BasisFactsProjection.name):
        _, controller, key_purpose = key.split("|", 2)
        if key_purpose == purpose:
            found.add(controller)
    return sorted(found)


def facts_as_of(facts: BasisFacts, at: datetime, known_at: datetime) -> BasisFacts:
    """Only the facts valid by ``at`` that the ledger had recorded by ``known_at``: an
    answer about T says nothing of what happened after it."""
    kept = tuple(f for f in facts.facts if f.valid_at <= at and f.recorded_at <= known_at)
    return facts.model_copy(update={"facts": kept})


def basis_answer(
    ledger: Backends,
    subject_id: str,
    purpose: str,
    at: datetime,
    known_at: datetime | None = None,
    controller: str | None = None,
) -> tuple[BasisAnswer, list[Judgement]]:
    """The basis at ``at`` as known at ``known_at`` (default now) from every recorded
    fact, so that its intervals run past T and K; and every processing of the purpose,
    judged as known then and now. (``pdl basis`` answers as of T, through the legal-basis
    report; this is the bitemporal primitive it rests on.)"""
    now = ledger.clock()
    facts = basis_facts(ledger, subject_id, purpose, controller)
    answer = basis_at(facts, ledger.catalogs, at, known_at or now)
    return answer, judge(facts, ledger.catalogs, now)
