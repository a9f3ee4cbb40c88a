"""``PDL_STALL_TIMEOUT`` bounds every catch-up a command runs, not only the reads' and
`pdl run --until-caught-up`'s: the erasure processor's own catch-ups (`pdl erase`,
`pdl retention run`) give up after the configured seconds too, with the error every
stalled catch-up gives. Before, they waited the default 60 s whatever the setting.

The embedded log cannot hold a reader the way an open Kafka transaction does (an append
is one SQLite transaction), so the tests make its erasure topic report one record more
than a reader can read, once the topic holds any: the reads before the request is
appended are not held, the erasure processor's catch-up of its queue is.
tests/resilience/test_stall_timeout_kafka.py holds it with a real open transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from ledger.errors import Unavailable
from ledger.log.base import TopicPartition
from ledger.service import erasure, retention
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.erasure.helpers import informatique70_customer

#: the least the setting takes: the error names the seconds, so no timing is asserted
STALL_S = 1
STALLED = f"projections made no progress for {STALL_S} s"


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Backends]:
    """An embedded ledger whose settings come from the environment, as a command's do."""
    monkeypatch.setenv("PDL_STALL_TIMEOUT", str(STALL_S))
    opened = Backends(Settings.from_environment(None, tmp_path / "data"))
    assert opened.settings.stall_timeout_s == STALL_S
    yield opened
    opened.close()


def stall_the_erasure_topic(monkeypatch: pytest.MonkeyPatch, ledger: Backends) -> None:
    """From now on, each partition of the erasure topic that holds records ends one
    record beyond what a reader gets: no catch-up of that partition ever completes."""
    log = ledger.log
    reported = log.end_offsets
    topic = ledger.topics.erasure

    def end_offsets(topics: Iterable[str]) -> dict[TopicPartition, int]:
        ends = reported(topics)
        return {tp: end + 1 if tp.topic == topic and end else end for tp, end in ends.items()}

    monkeypatch.setattr(log, "end_offsets", end_offsets)


def test_pdl_erase_gives_up_after_the_configured_stall(
    monkeypatch: pytest.MonkeyPatch, ledger: Backends
) -> None:
    customer = informatique70_customer(ledger)
    stall_the_erasure_topic(monkeypatch, ledger)
    # what `pdl erase` runs: the request (its catch-up is not held: the topic is empty
    # until the request is appended), then the processor until it is carried out
    request = erasure.request_erasure(ledger, customer.subject_id, "request")
    with pytest.raises(Unavailable) as raised:
        erasure.carry_out(ledger, request)
    assert raised.value.message == STALLED
    assert "`pdl lag`" in str(raised.value.fix)
    assert ledger.keys.keys_of(customer.subject_id)  # nothing shredded


def test_pdl_retention_run_gives_up_after_the_configured_stall(
    monkeypatch: pytest.MonkeyPatch, ledger: Backends
) -> None:
    customer = informatique70_customer(ledger)
    # a request left pending (`pdl erase --no-wait`): the run carries it out first
    erasure.request_erasure(ledger, customer.subject_id, "request")
    stall_the_erasure_topic(monkeypatch, ledger)
    with pytest.raises(Unavailable) as raised:
        retention.carry_out(ledger)
    assert raised.value.message == STALLED
    assert ledger.keys.keys_of(customer.subject_id)


def test_the_processor_catches_up_within_the_setting_when_nothing_holds_it(
    ledger: Backends,
) -> None:
    """The short setting bounds a stall, not a catch-up that makes progress."""
    customer = informatique70_customer(ledger)
    request = erasure.request_erasure(ledger, customer.subject_id, "request")
    certificate = erasure.carry_out(ledger, request)
    assert certificate["request"]["event_id"] == request.event_id
