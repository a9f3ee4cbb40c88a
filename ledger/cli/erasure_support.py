"""What the erasure, hold and retention commands share: instants, the controller, the
subject's state, appending one event through the intake, and running the processor."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from consumers.erasure import ErasureOutcome, ErasureProcessor
from ledger.cli.common import Failure
from ledger.config import Ledger
from ledger.contract.events import LedgerEvent
from ledger.contract.rejection import EventRejected
from ledger.erasure.facts import controllers_of
from ledger.erasure.scope import ScopeError, parse_scope
from projections.subject_state import SubjectState, SubjectStateProjection


def instant(text: str) -> datetime:
    """An argparse type: an ISO 8601 instant with a zone."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant — fix: e.g. 2024-05-01T00:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone — fix: add Z or +02:00")
    return value


def scope_argument(text: str) -> dict[str, str]:
    """An argparse type: subject, purpose:P or category:C, as the events' scope object."""
    try:
        return parse_scope(text).model_dump(mode="json", exclude_none=True)
    except ScopeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def at_instant(ledger: Ledger, now: datetime) -> Ledger:
    """The ledger with its clock fixed at ``now`` (``--now``): one instant for a whole run."""
    ledger.clock = lambda: now
    return ledger


def subject_state(ledger: Ledger, subject_id: str, catch_up: bool = True) -> SubjectState:
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


def append_one(ledger: Ledger, submitted: Mapping[str, Any]) -> LedgerEvent:
    """Validate, check and append one event, as `pdl emit` would."""
    intake = ledger.intake()
    try:
        event = intake.prepare(submitted)
    except EventRejected as exc:
        raise Failure("\n".join(str(r) for r in exc.rejections)) from None
    intake.append([event])
    return event


def run_processor(ledger: Ledger) -> list[ErasureOutcome]:
    processor = ErasureProcessor(ledger)
    try:
        return processor.process_pending()
    finally:
        processor.close()
