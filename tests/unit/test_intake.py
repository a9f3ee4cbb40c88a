"""Rejections name the field, the rule and the fix — and never echo a value."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic_core import PydanticSerializationError

from ledger.contract.events import SubjectEvent
from ledger.contract.rejection import EventRejected
from ledger.errors import Refused
from ledger.service.backends import Backends
from ledger.service.intake import Intake
from ledger.service.settings import Settings
from ledger.service.submission import submit_lines
from tests.scenario import canary, collected, consent, lines

NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[Intake]:
    ledger = Backends(Settings.from_environment(None, tmp_path / "data"), clock=lambda: NOW)
    yield ledger.intake()
    ledger.close()


def rejected(intake: Intake, event: dict[str, Any]) -> str:
    with pytest.raises(EventRejected) as caught:
        intake.prepare(event)
    return str(caught.value)


def test_valid_event_is_sealed_on_append(intake: Intake) -> None:
    email = canary() + "@example.fr"
    event = intake.prepare(collected(email, email))
    assert email not in repr(event)
    with pytest.raises(PydanticSerializationError, match="PlaintextLeak"):
        event.model_dump_json()  # prepared, not sealed yet: it cannot leave the process
    assert isinstance(event, SubjectEvent) and event.subject_id.startswith("sub_")
    (receipt,) = intake.append([event])
    assert receipt.key == event.subject_id  # a new person keeps the id prepare gave


def test_a_rejected_batch_leaves_no_trace(tmp_path: Path) -> None:
    """A file rejected as a whole writes no identity mapping and no data key: the key
    store's bytes are unchanged, so nothing reveals that the identifier was submitted."""

    def key_store_bytes() -> dict[str, bytes]:  # with the store closed: its files at rest
        return {f.name: f.read_bytes() for f in sorted((tmp_path / "data").glob("keys.sqlite*"))}

    def ledger() -> Backends:
        return Backends(Settings.from_environment(None, tmp_path / "data"), clock=lambda: NOW)

    first = ledger()
    submit_lines(first.intake(), lines(consent("known@example.fr")))
    first.close()
    before = key_store_bytes()
    email = canary() + "@example.fr"
    bad = {**consent(email), "occurred_at": "2030-01-01T00:00:00Z"}  # in the future
    second = ledger()
    try:
        with pytest.raises(Refused, match="nothing appended"):
            submit_lines(second.intake(), lines(collected(email, email), bad))
        assert second.keys.subjects_known_as(email) == {}
    finally:
        second.close()
    assert key_store_bytes() == before


def test_a_subject_id_is_refused_with_another_controller(intake: Intake) -> None:
    (receipt,) = intake.append([intake.prepare(consent("camille@example.fr"))])
    other = {
        **consent("x@example.fr", purpose="marketing-consent"),
        "controller": "laposte-digiposte",
        "subject_id": receipt.key,
    }
    del other["subject"]
    message = rejected(intake, other)
    assert message.startswith("controller: ") and "belongs to controller informatique70" in message
    assert "fix: submit the natural identifier as subject" in message


@pytest.mark.parametrize(
    "change, field, rule",
    [
        ({"type": "Nope"}, "type", "unknown event type"),
        ({"occurred_at": "2024-03-01T09:12:00"}, "occurred_at", "no time zone"),
        ({"occurred_at": "2030-01-01T00:00:00Z"}, "occurred_at", "in the future"),
        ({"occurred_at": "2019-01-01T00:00:00Z"}, "occurred_at", "no policy"),
        ({"controller": "acme"}, "controller", "unknown controller"),
        ({"purposes": ["astrology"]}, "purposes.0", "unknown purpose"),
        ({"purposes": ["newsletter", "accounting"]}, "purposes", "different retention"),
        ({"colour": "blue"}, "colour", "Extra inputs are not permitted"),
        ({"source": ""}, "source", "at least 1 character"),
    ],
)
def test_bad_input_names_field_and_rule(
    intake: Intake, change: dict[str, Any], field: str, rule: str
) -> None:
    message = rejected(intake, {**collected("a@example.fr", "a@example.fr"), **change})
    assert message.startswith(f"{field}: ") and rule in message and "fix:" in message


def test_values_never_appear_in_rejections(intake: Intake) -> None:
    secret = canary()
    event = collected("a@example.fr", secret)
    event["values"].append({"field": "phone", "category": "contact", "value": secret * 200})
    event["values"].append({"field": "fax", "category": "contact", "value": 33612345678})
    message = rejected(intake, event)
    assert "values.1.value: personal value longer than 4096" in message
    assert "values.2.value: personal value must be a string" in message
    assert secret not in message and "33612345678" not in message
    event = collected("a@example.fr", secret)
    event["values"][0]["category"] = "payment"  # not collected for the newsletter
    message = rejected(intake, event)
    assert message.startswith("values.0.category: category 'payment' is not collected")
    assert secret not in message


def test_consent_only_for_consent_purposes(intake: Intake) -> None:
    message = rejected(intake, consent("a@example.fr", purpose="accounting"))
    assert "rests on legal_obligation, not consent" in message


def test_subject_is_required_and_unambiguous(intake: Intake) -> None:
    event = consent("a@example.fr")
    del event["subject"]
    assert rejected(intake, event).startswith("subject: no subject")
    both = {**consent("a@example.fr"), "subject_id": "sub_" + "0" * 32}
    assert "both subject and subject_id" in rejected(intake, both)


def test_email_identifiers_are_case_insensitive(intake: Intake) -> None:
    a = intake.prepare(consent("Camille@Example.fr"))
    b = intake.prepare(consent("camille@example.fr"))
    assert a.log_key == b.log_key and a.log_key.startswith("sub_")
