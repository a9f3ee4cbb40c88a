"""Erasure use cases: the subject's state, its controller, appending one event through the
intake, and the erasure processor, built from the adapters of one ``Backends``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from consumers.erasure import ErasureFiles, ErasureOutcome, ErasureProcessor
from ledger.contract.events import LedgerEvent
from ledger.contract.rejection import EventRejected
from ledger.erasure.certificate import Certificate
from ledger.erasure.chain import read_register
from ledger.erasure.holds import ActiveHold
from ledger.erasure.retention import SubjectFacts
from ledger.errors import NotFound, Refused
from ledger.service import queries
from ledger.service.backends import Backends
from ledger.service.erasure_facts import active_holds, controllers_of, subject_facts
from projections.subject_state import SubjectState, SubjectStateProjection


def at_instant(ledger: Backends, now: datetime) -> Backends:
    """The ledger with its clock fixed at ``now`` (``--now``): one instant for a whole run."""
    ledger.clock = lambda: now
    return ledger


def subject_state(ledger: Backends, subject_id: str, catch_up: bool = True) -> SubjectState:
    """What is held on the subject (an empty state if nothing), after catching up unless
    ``catch_up`` is False."""
    if catch_up:
        ledger.catch_up()
    held = queries.subject_state(ledger, subject_id)
    return SubjectStateProjection().initial(subject_id) if held is None else held


def controller_for(state: SubjectState, given: str | None) -> str:
    """The controller named, or the only one the subject is known to."""
    if given:
        return given
    known = controllers_of(state)
    if len(known) == 1:
        return known[0]
    raise NotFound(
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
        raise Refused("\n".join(str(r) for r in exc.rejections)) from None
    intake.append([event])
    return event


def request_erasure(
    ledger: Backends,
    subject_id: str,
    reason: str,
    scope: Mapping[str, str] | None = None,
    controller: str | None = None,
    channel: str | None = None,
) -> LedgerEvent:
    """Append an ``ErasureRequested`` for the subject (``scope`` as the event's scope
    object; the whole subject when None) at ``controller``, or at the only controller the
    subject is known to. ``run_processor`` carries it out."""
    state = subject_state(ledger, subject_id)
    return append_one(
        ledger,
        {
            "type": "ErasureRequested",
            "subject_id": subject_id,
            "controller": controller_for(state, controller),
            "occurred_at": ledger.clock().isoformat(),
            "scope": dict(scope or {"kind": "subject"}),
            "reason": reason,
            **({"channel": channel} if channel else {}),
        },
    )


def erasure_processor(ledger: Backends) -> ErasureProcessor:
    """The erasure processor working with ``ledger``'s adapters (give a processor that runs
    in a thread of its own a ``Backends`` of its own)."""

    def read_subject(
        subject_id: str, live_classes: Mapping[str, str]
    ) -> tuple[SubjectFacts, Mapping[str, ActiveHold]]:
        state = subject_state(ledger, subject_id, catch_up=False)
        return subject_facts(state, live_classes), active_holds(state)

    layout = ledger.layout
    return ErasureProcessor(
        log=ledger.log,
        registry=ledger.registry,
        topics=ledger.topics,
        keys=ledger.keys,
        queue=ledger.erasure_runner(),
        queue_store=ledger.erasure_store,
        projections=ledger.runner(),
        projection_store=ledger.store,
        read_subject=read_subject,
        catalogs=lambda: ledger.catalogs,
        append=lambda events: ledger.intake().append(events),
        signer=ledger.signing_key,
        clock=lambda: ledger.clock(),
        files=ErasureFiles(layout.erasure_lock, layout.erasure_intent),
        stall_timeout_s=ledger.settings.stall_timeout_s,
        backups=ledger.backup_schedule,
    )


def run_processor(ledger: Backends) -> list[ErasureOutcome]:
    """One pass of the erasure processor: every pending request."""
    return erasure_processor(ledger).process_pending()


def erasure_scope(purpose: str | None = None, category: str | None = None) -> dict[str, str]:
    """The scope object of an erasure: one purpose, one category, or the whole subject."""
    if purpose:
        return {"kind": "purpose", "purpose": purpose}
    if category:
        return {"kind": "category", "category": category}
    return {"kind": "subject"}


def carry_out(ledger: Backends, request: LedgerEvent) -> Certificate:
    """Run the erasure processor for ``request`` and return its certificate: from this
    pass, or from a concurrent pass of another process (found in the register)."""
    outcome = next(
        (o for o in run_processor(ledger) if o.request.event_id == request.event_id), None
    )
    if outcome is not None and outcome.certificate is not None:
        return outcome.certificate
    for stored in read_register(ledger.log, ledger.registry, ledger.topics):
        if stored.request_event_id == request.event_id:
            document = stored.document()
            if document is not None:
                return document
    why = outcome.problem if outcome else "no certificate found for it"
    raise Refused(
        f"erasure request {request.event_id} not carried out: {why}",
        fix="run `pdl erase` again, or `pdl run`, once the problem is mended; the request "
        "stays pending until it is carried out",
    )
