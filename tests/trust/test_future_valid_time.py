"""A valid time ahead of the record time: the intake refuses an `occurred_at` more than
5 minutes ahead of its clock (``MAX_CLOCK_SKEW``), and the consumers refuse one more
than 5 minutes ahead of the record's time, so a record written straight to a topic is
judged alike. Record time is the log's, so the verdict is the same live and on rebuild.
On the embedded log by name: the test sets the record times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consumers.admission import POLICY_REFUSED
from ledger.contract.deadletter import DeadLetter
from ledger.service.backends import Backends
from ledger.service.deadletters import dead_letters
from ledger.service.settings import Settings
from tests.erasure.helpers import informatique70_customer
from tests.trust.test_policy_side_door import LogClock, append_straight, recorded_fields

RECORDED = datetime(2030, 1, 1, 12, tzinfo=UTC)  # after the customer's own records


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Backends]:
    opened = Backends(Settings.from_environment(None, tmp_path / "data"))
    yield opened
    opened.close()


def test_a_record_whose_valid_time_is_ahead_of_its_record_time_is_dead_lettered(
    ledger: Backends,
) -> None:
    clock = LogClock()
    ledger.log_clock = clock
    customer = informatique70_customer(ledger)
    ledger.runner().catch_up()
    given = recorded_fields(ledger, "consent", "ConsentGiven", customer.subject_id)

    clock.at = RECORDED
    ahead = {**given, "occurred_at": RECORDED + timedelta(minutes=6)}
    append_straight(ledger, "consent", "ConsentGiven", ahead)
    within = {**given, "occurred_at": RECORDED + timedelta(minutes=4)}  # clocks drift
    append_straight(ledger, "consent", "ConsentGiven", within)

    progress = ledger.runner().catch_up()
    assert (progress.dead_letters, progress.applied) == (1, 1)
    (letter,) = [d for d in dead_letters(ledger) if isinstance(d, DeadLetter)]
    assert letter.reason.startswith(POLICY_REFUSED)
    assert "occurred_at: lies more than 5 minutes in the future" in letter.reason
