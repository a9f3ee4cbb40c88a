"""Requests from people, on both backends: the one-month clock, the extension, the
overdue report, bpost's identity check, erasure's certificate and recipients, and the
Art. 20 export against its published schema."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from ledger.errors import Refused
from ledger.reports.build import ReportKind, ReportRequest, build_report
from ledger.reports.request_answers import answer
from ledger.service import requests as rq
from ledger.service.erasure import at_instant, run_processor
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.scenario import collected, lines

SCHEMA = Path(__file__).parents[2] / "docs" / "schemas" / "portability.schema.json"
CAMILLE = "camille.martin@example.fr"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def shared(subject: str, when: str = "2024-01-10T09:00:00Z") -> dict[str, object]:
    return {
        "type": "DataShared",
        "subject": subject,
        "controller": "informatique70",
        "occurred_at": when,
        "recipient": "sendinblue",
        "recipient_role": "processor",
        "country": "FR",
        "purpose": "newsletter",
        "categories": ["contact"],
    }


def test_access_received_on_31_january_is_due_at_the_end_of_february(
    make_ledger: LedgerFactory,
) -> None:
    ledger = at_instant(make_ledger(), at("2024-06-01T12:00:00+00:00"))
    submit_lines(ledger.intake(), lines(collected(CAMILLE, CAMILLE, when="2024-01-05T09:00:00Z")))
    request_id = rq.receive(
        ledger, "informatique70", CAMILLE, "access", "e-mail", at("2024-01-31T10:00:00+01:00")
    )
    state = rq.request_state(ledger, "informatique70", request_id)
    # 2024 is a leap year: the last day of February is the 29th, ended in Paris
    assert rq.due_at(ledger, state) == at("2024-03-01T00:00:00+01:00")

    extended = rq.record(
        ledger, "informatique70", request_id, "RequestExtended", reason="three archives to search"
    )
    assert extended.extended_reason == "three archives to search"
    assert rq.due_at(ledger, extended) == at("2024-05-01T00:00:00+02:00")

    def overdue_ids(when: str) -> list[str]:
        report = build_report(ledger, ReportRequest(ReportKind.requests, at=at(when)))
        return [r["request_id"] for r in report["requests"]]

    assert overdue_ids("2024-04-30T12:00:00+02:00") == []
    assert overdue_ids("2024-05-02T00:00:00+02:00") == [request_id]

    done = answer(ledger, "informatique70", request_id, language="fr")
    assert done.request["status"] == "answered"
    assert isinstance(done.document, str) and '<html lang="fr">' in done.document
    assert "Droit d'accès" in html.unescape(done.document)
    assert overdue_ids("2024-06-01T12:00:00+00:00") == []


def test_a_bpost_request_without_verified_identity_cannot_be_answered(
    make_ledger: LedgerFactory,
) -> None:
    ledger = at_instant(make_ledger(), at("2024-03-01T12:00:00+00:00"))
    request_id = rq.receive(
        ledger, "bpost-mystamp", "client@example.be", "access", "letter", at("2024-02-01T10:00:00Z")
    )
    with pytest.raises(Refused, match="identity to be verified"):
        answer(ledger, "bpost-mystamp", request_id)
    rq.record(ledger, "bpost-mystamp", request_id, "RequestIdentityRejected", reason="illegible")
    with pytest.raises(Refused, match="identity is rejected"):
        answer(ledger, "bpost-mystamp", request_id)
    rq.record(
        ledger, "bpost-mystamp", request_id, "RequestIdentityVerified", method="identity card"
    )
    assert answer(ledger, "bpost-mystamp", request_id).request["status"] == "answered"


def test_an_erasure_answer_links_its_certificate_and_lists_recipients(
    make_ledger: LedgerFactory,
) -> None:
    ledger = at_instant(make_ledger(), at("2024-02-01T12:00:00+00:00"))
    submit_lines(
        ledger.intake(),
        lines(collected(CAMILLE, CAMILLE, when="2024-01-05T09:00:00Z"), shared(CAMILLE)),
    )
    request_id = rq.receive(
        ledger, "informatique70", CAMILLE, "erasure", "web form", at("2024-01-31T10:00:00Z")
    )
    with pytest.raises(Refused, match="no erasure"):
        answer(ledger, "informatique70", request_id)
    subject_id = rq.request_state(ledger, "informatique70", request_id).subject_id
    intake = ledger.intake()
    intake.append(
        [
            intake.prepare(
                {
                    "type": "ErasureRequested",
                    "subject_id": subject_id,
                    "controller": "informatique70",
                    "occurred_at": "2024-02-01T11:00:00Z",
                    "scope": {"kind": "purpose", "purpose": "newsletter"},
                    "reason": "request",
                }
            )
        ]
    )
    (outcome,) = run_processor(ledger)
    assert outcome.certificate is not None

    done = answer(ledger, "informatique70", request_id)
    assert done.certificate is not None and done.certificate["sequence"] == 1
    assert len(done.certificate["sha256"]) == 64
    assert done.request["certificate_sha256"] == done.certificate["sha256"]
    assert [r["recipient"] for r in done.recipients_to_notify] == ["sendinblue"]
    assert done.recipients_to_notify[0]["notified_at"] is None

    told = rq.record(
        ledger,
        "informatique70",
        request_id,
        "RecipientNotified",
        recipient="sendinblue",
        channel="API",
    )
    assert [n.recipient for n in told.notified] == ["sendinblue"]
    assert rq.recipients_to_notify(ledger, told)[0]["notified_at"] is not None


def test_the_portability_export_validates_against_its_schema(make_ledger: LedgerFactory) -> None:
    ledger = at_instant(make_ledger(), at("2024-02-01T12:00:00+00:00"))
    submit_lines(ledger.intake(), lines(collected(CAMILLE, CAMILLE, when="2024-01-05T09:00:00Z")))
    request_id = rq.receive(
        ledger, "informatique70", CAMILLE, "portability", "e-mail", at("2024-01-31T10:00:00Z")
    )
    done = answer(ledger, "informatique70", request_id)
    assert isinstance(done.document, dict)
    jsonschema.validate(done.document, json.loads(SCHEMA.read_text("utf-8")))
    assert [v["value"] for v in done.document["values"]] == [CAMILLE]


def test_a_closed_request_is_not_answered_again(make_ledger: LedgerFactory) -> None:
    ledger = at_instant(make_ledger(), at("2024-02-01T12:00:00+00:00"))
    request_id = rq.receive(
        ledger, "informatique70", CAMILLE, "objection", "e-mail", at("2024-01-31T10:00:00Z")
    )
    rq.record(ledger, "informatique70", request_id, "RequestWithdrawn")
    with pytest.raises(Refused, match="already withdrawn"):
        answer(ledger, "informatique70", request_id)
