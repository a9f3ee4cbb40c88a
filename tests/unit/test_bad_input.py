"""Bad input never ends in a traceback: each undecodable, too deep or badly timed line
is a rejection with its line number, the rule and the fix; nothing is appended."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import Refused
from ledger.service.backends import Backends
from ledger.service.intake import Intake
from ledger.service.settings import Settings
from ledger.service.submission import MAX_DEPTH, submit_lines
from tests.scenario import collected, consent

NOW = datetime(2024, 6, 1, tzinfo=UTC)
TIMESTAMP_FIX = "use an ISO 8601 timestamp with a zone, e.g. 2024-03-12T09:30:00Z"


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[Intake]:
    ledger = Backends(Settings.from_environment(None, tmp_path / "data"), clock=lambda: NOW)
    yield ledger.intake()
    ledger.close()


def refused(intake: Intake, lines: list[bytes | str]) -> list[str]:
    """The problems listed, one a line, without the summary."""
    with pytest.raises(Refused) as caught:
        submit_lines(intake, lines)
    *problems, summary = str(caught.value).splitlines()
    assert summary.endswith("nothing appended")
    return problems


def good() -> bytes:
    return json.dumps(consent("ok@example.fr")).encode() + b"\n"


def nested(levels: int) -> bytes:
    event: dict[str, Any] = collected("deep@example.fr", "deep@example.fr")
    text = json.dumps({**event, "source": "@"})
    return text.replace('"@"', "[" * levels + "]" * levels).encode() + b"\n"


def test_a_deeply_nested_line_is_a_rejection(intake: Intake) -> None:
    problems = refused(intake, [good(), nested(5000), nested(MAX_DEPTH), good()])
    assert problems == [
        f"line {n}: (line): objects and arrays nested more than {MAX_DEPTH} levels deep — "
        "fix: flatten the event (see docs/EVENTS.md for its fields)"
        for n in (2, 3)
    ]


def test_nesting_up_to_the_limit_is_judged_by_the_contract(intake: Intake) -> None:
    (problem,) = refused(intake, [nested(MAX_DEPTH - 1)])
    assert problem.startswith("line 1: source: ")


def test_a_line_that_is_not_utf8_is_a_rejection(intake: Intake) -> None:
    latin1 = json.dumps(consent("x@example.fr")).replace("web-form", "caf\u00e9")
    problems = refused(intake, [good(), latin1.encode("latin-1"), b"\xff\xfe{}\n"])
    column = latin1.index("\u00e9") + 1
    assert problems == [
        f"line 2: (line): not UTF-8 at byte {column} — fix: encode the file as UTF-8",
        "line 3: (line): not UTF-8 at byte 1 — fix: encode the file as UTF-8",
    ]


def test_a_number_too_long_to_read_is_a_rejection(intake: Intake) -> None:
    line = json.dumps(consent("n@example.fr")).replace('"web-form"', "9" * 5000)
    assert refused(intake, [line]) == [
        "line 1: (line): a number too long to read — fix: no event field takes a number that long"
    ]


def test_a_lone_surrogate_escape_is_a_rejection(intake: Intake) -> None:
    line = json.dumps(collected("s@example.fr", "s@example.fr")).replace(
        "s@example.fr", "\\ud800", 1
    )
    (problem,) = refused(intake, [line])
    assert problem.startswith("line 1: (line): a string holds an unpaired surrogate")


@pytest.mark.parametrize(
    ("occurred_at", "rule"),
    [
        (1710235800, "a number is not a timestamp (no epoch times)"),
        (1710235800.5, "a number is not a timestamp (no epoch times)"),
        ("1710235800", "not an ISO 8601 date and time"),
        ("2024-03-12", "not an ISO 8601 date and time"),
        ("2024-03-12T09:30:00", "timestamp has no time zone"),
        ("12/03/2024 09:30", "not an ISO 8601 date and time"),
        (None, "a timestamp must be a string"),
    ],
)
def test_a_timestamp_must_be_iso_8601_with_a_zone(
    intake: Intake, occurred_at: object, rule: str
) -> None:
    event = {**consent("t@example.fr"), "occurred_at": occurred_at}
    assert refused(intake, [json.dumps(event)]) == [
        f"line 1: occurred_at: {rule} — fix: {TIMESTAMP_FIX}"
    ]


def test_every_timestamp_field_is_strict(intake: Intake) -> None:
    event = {**consent("t@example.fr"), "expires_at": 1893456000}
    assert refused(intake, [json.dumps(event)]) == [
        f"line 1: expires_at: a number is not a timestamp (no epoch times) — fix: {TIMESTAMP_FIX}"
    ]


@pytest.mark.parametrize(
    "occurred_at",
    ["2024-03-12T09:30:00Z", "2024-03-12T10:30:00.123456+01:00", "2024-03-12 09:30+0000"],
)
def test_iso_8601_timestamps_with_a_zone_are_taken(intake: Intake, occurred_at: str) -> None:
    event = {**consent("t@example.fr"), "occurred_at": occurred_at}
    (receipt,) = submit_lines(intake, [json.dumps(event)])
    assert not receipt.duplicate


def pdl(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", *args],
        input=stdin,
        capture_output=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )


def test_pdl_emit_lists_bad_lines_without_a_traceback() -> None:
    timed = json.dumps({**consent("e@example.fr"), "occurred_at": 1710235800}).encode()
    text = b"".join([good(), nested(5000), "caf\u00e9\n".encode("latin-1"), timed + b"\n"])
    result = pdl("emit", "-", stdin=text)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr and "Error:" not in stderr
    assert "line 2: (line): objects and arrays nested more than" in stderr
    assert "line 3: (line): not UTF-8 at byte 4" in stderr
    assert "line 4: occurred_at: a number is not a timestamp" in stderr
    assert "3 problem(s); nothing appended" in stderr


def test_pdl_emit_of_the_same_file_twice_appends_once() -> None:
    event = {**consent("twice@example.fr"), "event_id": "0ce7c784-e9c7-41eb-8636-362465f5eb49"}
    text = json.dumps(event).encode() + b"\n"
    first = pdl("emit", "-", stdin=text)
    assert first.returncode == 0, first.stderr
    assert "pdl emit: appended 1 event(s)\n" in first.stderr.decode()
    again = pdl("emit", "-", stdin=text)
    assert again.returncode == 0, again.stderr
    assert again.stdout.decode().rstrip().endswith("\tduplicate")
    assert (
        "pdl emit: appended 0 event(s); 1 already in the ledger (same event_id), "
        "not appended again" in again.stderr.decode()
    )
