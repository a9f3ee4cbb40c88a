"""Property: no bytes on a topic crash the consumer, and none vanish.

Random bytes and mutations of real messages (the golden vectors) are appended to the
event topics. Every one is either applied (a mutation can still be a valid event) or
dead-lettered with a reason; when none is applied, the projections are unchanged.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.contract.deadletter import DeadLetter
from ledger.contract.events import EVENT_TYPES
from ledger.log.base import OutgoingRecord
from ledger.service.backends import Backends
from ledger.service.deadletters import dead_letters
from ledger.service.settings import Settings
from ledger.service.submission import submit_lines
from tests.golden import HERE, SUBJECT_ID
from tests.scenario import consent, lines

GOLDEN = [p.read_bytes() for p in sorted(HERE.glob("*.bin"))]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    message = bytearray(draw(st.sampled_from(GOLDEN)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(message) - 1))
        match draw(st.sampled_from(["flip", "insert", "delete", "truncate"])):
            case "flip":
                message[at] ^= draw(st.integers(1, 255))
            case "insert":
                message[at:at] = draw(st.binary(min_size=1, max_size=8))
            case "delete":
                del message[at]
            case "truncate":
                del message[at:]
        if not message:
            break
    return bytes(message)


FAMILIES = sorted({cls.topic_family for cls in EVENT_TYPES.values()})

poison = st.tuples(
    st.sampled_from(FAMILIES),
    st.sampled_from([SUBJECT_ID.encode(), b"", b"not-a-subject"]),
    st.one_of(st.binary(max_size=300), mutated()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(poison, min_size=1, max_size=12))
def test_consumer_survives_any_bytes(messages: list[tuple[str, bytes, bytes]]) -> None:
    # family names, not topics: the per-test topic prefix is set after import
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Backends(Settings.from_environment(None, Path(tmp)))
        try:
            submit_lines(ledger.intake(), lines(consent("p@example.fr")))
            ledger.runner().catch_up()
            before = list(ledger.store.states("subject_state"))
            ledger.log.append([OutgoingRecord(ledger.topics.of(f), k, v) for f, k, v in messages])
            progress = ledger.runner().catch_up()
            letters = [x for x in dead_letters(ledger) if isinstance(x, DeadLetter)]
            assert progress.applied + progress.dead_letters == len(messages)
            assert len(letters) == progress.dead_letters
            assert all(x.reason for x in letters)
            if progress.applied == 0:
                assert list(ledger.store.states("subject_state")) == before
        finally:
            ledger.close()


def test_random_bytes_alone_change_nothing() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Backends(Settings.from_environment(None, Path(tmp)))
        try:
            submit_lines(ledger.intake(), lines(consent("q@example.fr")))
            ledger.runner().catch_up()
            before = list(ledger.store.states("subject_state"))
            junk = [
                OutgoingRecord(t, b"k", secrets.token_bytes(64))
                for t in ledger.topics.event_topics()
            ]
            ledger.log.append(junk)
            progress = ledger.runner().catch_up()
            assert (progress.applied, progress.dead_letters) == (0, len(junk))
            assert list(ledger.store.states("subject_state")) == before
        finally:
            ledger.close()
