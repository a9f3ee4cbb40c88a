"""Questions about the ledger, answered from the projection store (service layer).

Each query first lets the projections catch up with everything appended, unless told
not to, so that answers reflect the whole log.
"""

from __future__ import annotations

from datetime import UTC, datetime

from consumers.decode import decode
from ledger.errors import Failure
from ledger.log.base import LogRecord
from ledger.service.backends import Backends
from projections.basis import BasisFacts, BasisFactsProjection
from projections.lawfulness import BasisAnswer, Judgement, basis_at, judge
from projections.subject_state import SubjectState, SubjectStateProjection


def basis_facts(
    ledger: Backends, subject_id: str, purpose: str, controller: str | None = None
) -> BasisFacts:
    projection = BasisFactsProjection()
    found = [
        projection.load(text)
        for key, text in ledger.store.states_with_prefix(projection.name, subject_id + "|")
        if key.endswith("|" + purpose)
        and (controller is None or key == f"{subject_id}|{controller}|{purpose}")
    ]
    if len(found) > 1:
        names = ", ".join(f.controller for f in found)
        raise Failure(
            f"purpose {purpose!r} of this subject exists for several controllers "
            f"({names}); choose one with --controller"
        )
    if found:
        return found[0]
    if controller is None:
        controllers = ledger.catalogs.controllers_with_purpose(purpose)
        if len(controllers) != 1:
            raise Failure(
                f"nothing recorded for purpose {purpose!r} of this subject; "
                "name its controller with --controller"
            )
        controller = controllers[0]
    return BasisFacts(subject_id=subject_id, controller=controller, purpose=purpose)


def basis_answer(
    ledger: Backends,
    subject_id: str,
    purpose: str,
    at: datetime,
    known_at: datetime | None = None,
    controller: str | None = None,
) -> tuple[BasisAnswer, list[Judgement]]:
    now = ledger.clock()
    facts = basis_facts(ledger, subject_id, purpose, controller)
    answer = basis_at(facts, ledger.catalogs, at, known_at or now)
    return answer, judge(facts, ledger.catalogs, now)


def state_at(
    ledger: Backends, subject_id: str, at: datetime, known_at: datetime | None = None
) -> SubjectState:
    """The subject's state from the events valid by ``at`` (and recorded by ``known_at``)."""
    projection = SubjectStateProjection()
    state = projection.initial(subject_id)
    for entry in ledger.store.journal(subject_id, until=at):
        if known_at is not None and entry.recorded_ms > known_at.timestamp() * 1000:
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
            raise Failure(
                f"journal entry {entry.topic}/{entry.partition}/{entry.offset} "
                f"no longer decodes: {recorded}; run `pdl rebuild`"
            )
        state = projection.apply(state, recorded)
    return state


def parse_instant(text: str, option: str) -> datetime:
    """An ISO 8601 instant from the command line; a date alone means its midnight UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Failure(
            f"{option}: {text!r} is not an ISO 8601 instant; "
            "use e.g. 2024-03-12 or 2024-03-12T09:30:00Z",
            code=2,
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
