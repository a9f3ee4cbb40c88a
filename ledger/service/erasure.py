"""Erasure use cases: the subject's state, its controller, appending one event through the
intake, and running the erasure processor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from consumers.erasure import ErasureOutcome, ErasureProcessor
from ledger.contract.events import LedgerEvent
from ledger.contract.rejection import EventRejected
from ledger.erasure.facts import controllers_of
from ledger.errors import Failure
from ledger.service.backends import Backends
from projections.subject_state import SubjectState, SubjectStateProjection


def at_instant(ledger: Backends, now: datetime) -> Backends:
    """The ledger with its clock fixed at ``now`` (``--now``): one instant for a whole run."""
    ledger.clock = lambda: now
    return ledger


def subject_state(ledger: Backends, subject_id: str, catch_up: bool = True) -> SubjectState:
    if catch_up:
        ledger.runner().catch_up()
    projection = SubjectStateProjection()
    stored = ledger.store.state(projection.name, subject_id)
    return projection.initial(subject_id) if stored is None else projection.load(stored)


def controller_for(state: SubjectState, given: str | None) -> str:
    """The controller named, or the only one the subject is known to."""
    if given:
        return given
    known = controllers_of(state)
    if len(known) == 1:
        return known[0]
    raise Failure(
        "controller: "
        + (f"the subject is known to {', '.join(known)}" if known else "no events name one")
        + " — fix: name it with --controller"
    )


def append_one(ledger: Backends, submitted: Mapping[str, Any]) -> LedgerEvent:
    """Validate, check and append one event, as `pdl emit` would."""
    intake = ledger.intake()
    try:
        event = intake.prepare(submitted)
    except EventRejected as exc:
        raise Failure("\n".join(str(r) for r in exc.rejections)) from None
    intake.append([event])
    return event


def run_processor(ledger: Backends) -> list[ErasureOutcome]:
    processor = ErasureProcessor(ledger)
    try:
        return processor.process_pending()
    finally:
        processor.close()
