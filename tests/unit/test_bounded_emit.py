"""`pdl emit` in bounded memory keeps its all-or-nothing rule: each line is validated
once, and the validated events are read back for sealing through spools that never hold
plaintext personal data at rest."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.contract.events import EVENT_TYPES
from ledger.errors import Refused
from ledger.service import spools
from ledger.service.backends import Backends
from ledger.service.intake import Intake, Screened
from ledger.service.settings import Settings
from ledger.service.spools import ScreenedSpool
from ledger.service.submission import CHUNK, submit_lines
from tests.scenario import canary, collected, consent, doc_examples, lines, with_canaries

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


def test_the_screened_spool_holds_no_plaintext(tmp_path: Path) -> None:
    secret = canary()
    email = secret + "@example.fr"
    backends = ledger(tmp_path / "data")
    try:
        intake = backends.intake()
        given = [intake.screen(e) for e in (collected(email, email), consent(email))]
        assert given[0].natural == email
        spooled = tmp_path / "spool"
        spooled.mkdir()
        with ScreenedSpool.created(spooled) as spool:
            for number in range(800):  # past one sealed chunk of the spool
                spool.keep(number + 1, given[number % 2])
            read_back = list(spool.events())
            (stored,) = [f.read_bytes() for f in spooled.iterdir()]
    finally:
        backends.close()
    assert read_back == [(n + 1, given[n % 2]) for n in range(800)]
    assert len(stored) > 800 * 100  # the events are there, encrypted
    assert secret.encode() not in stored


def test_every_event_type_reads_back_from_the_spool_as_validated(tmp_path: Path) -> None:
    """The spool keeps a validated event as JSON for its model to validate again: the
    event read back is the one the first pass checked, field for field."""
    backends = ledger(tmp_path / "data")
    try:
        intake = backends.intake()
        screened = []
        for example in doc_examples():
            if example["type"] == "DataErased":
                continue  # written only by the erasure processor
            event, _ = with_canaries(example)
            event["occurred_at"] = "2024-05-01T08:00:00.123456+02:00"
            screened.append(intake.screen(event))
        assert {s.event.type_name() for s in screened} == set(EVENT_TYPES) - {"DataErased"}
        with ScreenedSpool.created(tmp_path) as spool:
            for number, one in enumerate(screened, start=1):
                spool.keep(number, one)
            read_back = [one for _, one in spool.events()]
    finally:
        backends.close()
    assert read_back == screened
    assert [type(one.event) for one in read_back] == [type(one.event) for one in screened]


def test_an_event_that_does_not_read_back_is_named_without_its_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = canary()
    backends = ledger(tmp_path / "data")
    try:
        screened = backends.intake().screen(collected(secret + "@example.fr", "a@example.fr"))
    finally:
        backends.close()
    broken = {"controller": "informatique70", "values": [{"value": secret, "field": "?"}]}
    monkeypatch.setattr(spools, "_submitted_form", lambda event: broken)
    with ScreenedSpool.created(tmp_path) as spool:
        spool.keep(7, screened)
        with pytest.raises(RuntimeError, match=r"line 7: .*nothing appended") as refused:
            list(spool.events())
    assert secret not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_the_event_id_the_first_pass_checked_is_the_one_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backends = ledger(tmp_path / "data")
    try:
        intake = backends.intake()
        checked: list[str] = []
        screen = intake.screen

        def spied(submitted: Mapping[str, Any]) -> Screened:
            screened = screen(submitted)
            checked.append(screened.event.event_id)
            return screened

        monkeypatch.setattr(intake, "screen", spied)
        events = [collected("no-id@example.fr", "no-id@example.fr"), consent("no-id@example.fr")]
        assert all("event_id" not in e for e in events)
        receipts = submit_lines(intake, lines(*events))
        assert [r.event_id for r in receipts] == checked
        appended = [
            backends.registry.decode(r.value)[1]["event_id"]
            for r in backends.log.scan(backends.topics.event_topics())
        ]
        assert sorted(appended) == sorted(checked)
    finally:
        backends.close()


def _between_the_passes(
    intake: Intake, monkeypatch: pytest.MonkeyPatch, other_writer: Callable[[], None]
) -> None:
    """Run ``other_writer`` once the first pass has screened every line."""
    forget = intake.forget_provisional

    def forgotten(claims: bool = False) -> None:
        forget(claims)
        if claims:
            other_writer()

    monkeypatch.setattr(intake, "forget_provisional", forgotten)


def test_a_person_another_writer_recorded_meanwhile_keeps_that_writers_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backends = ledger(tmp_path / "data")
    try:
        intake = backends.intake()
        email = canary() + "@example.fr"
        meanwhile: list[str] = []

        def other_writer() -> None:
            if not meanwhile:
                meanwhile.append(backends.keys.new_subject())
                with backends.keys.batch():
                    backends.keys.assign_subject(meanwhile[0], "informatique70", email)

        _between_the_passes(intake, monkeypatch, other_writer)
        receipts = submit_lines(intake, lines(collected(email, email), consent(email)))
        assert [r.key for r in receipts] == meanwhile * 2
    finally:
        backends.close()


def test_a_subject_id_claimed_for_another_controller_meanwhile_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    backends = ledger(data)
    try:
        intake = backends.intake()
        subject_id = backends.keys.new_subject()
        claimed: list[bool] = []

        def other_writer() -> None:
            if not claimed:
                claimed.append(True)
                with backends.keys.batch():
                    backends.keys.assign_subject(subject_id, "another-controller")

        _between_the_passes(intake, monkeypatch, other_writer)
        event = consent("unused@example.fr")
        del event["subject"]
        event["subject_id"] = subject_id
        with pytest.raises(Refused, match="key store changed while the input was being appended"):
            submit_lines(intake, lines(event))
        assert sum(1 for _ in backends.log.scan(backends.topics.event_topics())) == 0
    finally:
        backends.close()


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
