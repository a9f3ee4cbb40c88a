"""The regulator's question, on both backends: consent on day 0, a withdrawal that
occurred on day 40 but was recorded on day 45, processing on day 42."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.service.backends import Backends
from ledger.service.queries import basis_answer, state_at
from tests.conftest import LedgerFactory
from tests.scenario import consent

DAY0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


class LogClock:
    """The embedded log's clock: set to the record time the next append must carry."""

    def __init__(self) -> None:
        self.at = DAY0

    def __call__(self) -> float:
        return self.at.timestamp()


def recording(make_ledger: LedgerFactory) -> Backends:
    """A ledger whose log stamps the record times the test sets (``append_at``)."""
    ledger = make_ledger()
    ledger.log_clock = LogClock()
    return ledger


def append_at(ledger: Backends, recorded: datetime, *events: dict[str, Any]) -> list[str]:
    assert isinstance(ledger.log_clock, LogClock)
    ledger.log_clock.at = recorded
    intake = ledger.intake()
    receipts = intake.append([intake.prepare(e) for e in events])
    return [r.event_id for r in receipts]


def processed(subject: str, when: datetime) -> dict[str, Any]:
    return {
        "type": "DataProcessed",
        "subject": subject,
        "controller": "informatique70",
        "occurred_at": when.isoformat(),
        "purpose": "newsletter",
        "claimed_basis": "consent",
        "categories": ["contact"],
        "system": "campaigns",
    }


# Record time is the broker's on Kafka (LogAppendTime): no test can set it there, so these
# run on the embedded log, whose clock the test sets; the fold they check is the same code
# on both backends (tests/lawfulness/ judges processing against withdrawals on Kafka too).
ON_THE_EMBEDDED_LOG = pytest.mark.parametrize("log_url", [None])


@ON_THE_EMBEDDED_LOG
def test_basis_as_known_then_and_as_known_now(make_ledger: LedgerFactory) -> None:
    ledger = recording(make_ledger)
    ledger.clock = lambda: NOW
    s = "bitemporal@example.fr"
    (given,) = append_at(ledger, day(0), consent(s, when=day(0).isoformat()))
    (used,) = append_at(ledger, day(42), processed(s, day(42)))
    (withdrawn,) = append_at(ledger, day(45), consent(s, False, when=day(40).isoformat()))
    ledger.runner().catch_up()
    subject = ledger.keys.subject_for(s, "informatique70")
    assert subject is not None

    then, _ = basis_answer(ledger, subject, "newsletter", at=day(42), known_at=day(42))
    assert then.status.basis == "consent"
    assert [f.event_id for f in then.status.evidence] == [given]
    assert then.valid_from == day(0) and then.valid_to is None  # as then believed
    assert then.believed_from == day(0) and then.believed_until == day(45)

    now, judgements = basis_answer(ledger, subject, "newsletter", at=day(42))
    assert now.status.basis is None and "withdrawn" in now.status.reason
    assert [f.event_id for f in now.status.evidence] == [withdrawn]
    assert now.valid_from == day(40) and now.believed_from == day(45)
    assert now.status.evidence[0].position.split("/")[0].endswith("consent")

    (judgement,) = judgements
    assert judgement.processed.event_id == used
    assert (judgement.verdict_then, judgement.verdict_now) == ("lawful", "unlawful")
    assert [f.event_id for f in judgement.now.status.evidence] == [withdrawn]

    before, _ = basis_answer(ledger, subject, "newsletter", at=day(39))
    assert before.status.basis == "consent" and before.valid_to == day(40)


@ON_THE_EMBEDDED_LOG
def test_state_at_a_past_instant(make_ledger: LedgerFactory) -> None:
    ledger = recording(make_ledger)
    s = "past@example.fr"
    append_at(ledger, day(0), consent(s, when=day(0).isoformat()))
    append_at(ledger, day(45), consent(s, False, when=day(40).isoformat()))
    ledger.runner().catch_up()
    subject = ledger.keys.subject_for(s, "informatique70")
    assert subject is not None
    status = {n: state_at(ledger, subject, day(n)).consents for n in (10, 42)}
    assert [c.status for c in status[10].values()] == ["given"]
    assert [c.status for c in status[42].values()] == ["withdrawn"]
    as_known = state_at(ledger, subject, day(42), known_at=day(42)).consents
    assert [c.status for c in as_known.values()] == ["given"]
