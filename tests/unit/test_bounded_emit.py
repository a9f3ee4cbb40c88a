"""`pdl emit` in bounded memory keeps its all-or-nothing rule: the input is read twice,
through spools that never hold plaintext personal data at rest."""

from __future__ import annotations

import json
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.errors import Refused
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from ledger.service.spools import InputSpool
from ledger.service.submission import CHUNK, submit_lines
from tests.scenario import canary, collected, consent, lines

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def ledger(data: Path) -> Backends:
    return Backends(Settings.from_environment(None, data), clock=lambda: NOW)


def test_a_bad_line_late_in_a_large_file_leaves_no_trace(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ledger(data)
    submit_lines(first.intake(), lines(consent("known@example.fr")))
    events_before = sum(1 for _ in first.log.scan(first.topics.event_topics()))
    first.close()
    key_store = {f.name: f.read_bytes() for f in sorted(data.glob("keys.sqlite*"))}
    people = [f"{canary()}-{i}@example.fr" for i in range(CHUNK + 300)]
    bad = {**consent(people[-1]), "occurred_at": "2030-01-01T00:00:00Z"}  # in the future
    second = ledger(data)
    try:
        with pytest.raises(Refused, match=rf"(?s)line {len(people) + 1}: .*nothing appended"):
            submit_lines(second.intake(), [*lines(*(consent(p) for p in people)), *lines(bad)])
        assert second.keys.subjects_known_as(people[0]) == {}
        events_after = sum(1 for _ in second.log.scan(second.topics.event_topics()))
        assert events_after == events_before
    finally:
        second.close()
    assert {f.name: f.read_bytes() for f in sorted(data.glob("keys.sqlite*"))} == key_store


def test_a_file_larger_than_a_chunk_is_appended_whole(tmp_path: Path) -> None:
    backends = ledger(tmp_path / "data")
    try:
        people = [f"chunked-{i}@example.fr" for i in range(CHUNK + 10)]
        events = [collected(p, p) for p in people] + [consent(p) for p in people[:20]]
        for number, event in enumerate(events):
            event["event_id"] = str(uuid.UUID(int=number + 1))
        receipts = submit_lines(backends.intake(), [json.dumps(e).encode() for e in events])
        assert (len(receipts), receipts.appended, receipts.duplicates) == (
            len(events),
            len(events),
            0,
        )
        # one subject per person, across chunks: the consent joins its collection's subject
        keys = {r.event_id: r.key for r in receipts}
        for collection, consent_event in zip(events, events[len(people) :], strict=False):
            assert keys[consent_event["event_id"]] == keys[collection["event_id"]]
        assert sum(1 for _ in backends.log.scan(backends.topics.event_topics())) == len(events)
    finally:
        backends.close()


def test_the_input_spool_holds_no_plaintext(tmp_path: Path) -> None:
    secret = canary()
    text = json.dumps(consent(secret + "@example.fr"))
    given: list[bytes | str] = [text, text.encode(), "", b"\xff not utf-8 " + secret.encode()]
    with InputSpool.created(tmp_path) as spool:
        for line in given * 400:  # past one sealed chunk of the spool
            spool.add(line)
        read_back = list(spool.lines())
        (stored,) = [f.read_bytes() for f in tmp_path.iterdir()]
    assert read_back == given * 400
    assert len(stored) > len(text) * 400  # the lines are there, encrypted
    assert secret.encode() not in stored


def test_what_a_submission_keeps_on_disk_holds_no_plaintext(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_root))
    secret = canary()
    email = secret + "@example.fr"
    backends = ledger(tmp_path / "data")
    try:
        receipts = submit_lines(backends.intake(), lines(collected(email, email), consent(email)))
        kept = [f for f in scratch_root.rglob("*") if f.is_file()]
        assert kept, "the receipts are read from the submission's scratch file"
        assert all(secret.encode() not in f.read_bytes() for f in kept)
        assert receipts.appended == 2
    finally:
        backends.close()
    del receipts
