"""What each report says about the scenario, as a DPO or a regulator would read it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.reports.reading import Audience, ReportRequestError, SubjectNotFound
from ledger.reports.render import ReportFormat, render
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.conftest import LedgerFactory
from tests.reports.support import AT, CALL_RECORDING, INVOICE, instant, json_bytes, report, seeded


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[Backends, str]]:
    ledger = Backends(Settings.from_environment(None, tmp_path / "data"))
    yield ledger, seeded(ledger)
    ledger.close()


def _purpose(section: dict[str, Any], purpose: str) -> dict[str, Any]:
    return next(p for p in section["purposes"] if p["id"] == purpose)


def test_record_of_processing_sets_declarations_beside_what_was_seen(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    seeded(ledger)
    ropa = report(ledger, "ropa")
    by_id = {s["controller"]["id"]: s for s in ropa["controllers"]}
    i70 = by_id["informatique70"]
    assert i70["catalog"]["version"] == "2023-01-01"
    newsletter = _purpose(i70, "newsletter")
    assert newsletter["basis"] == "consent" and newsletter["retention"]["text"] == (
        "P3Y from last_contact, or at consent_withdrawn if sooner, then erase"
    )
    assert newsletter["observed"] == {
        "subjects": 1,
        "events": 8,
        "processing": 2,
        "unlawful_as_known_then": 0,
        "unlawful_as_known_at_k": 1,
        "recipients_shared_with": ["sendinblue"],
    }
    assert _purpose(i70, "call-recording")["retention"]["duration"] == "P60D"
    assert i70["observed"]["subjects"] == 1
    bpost = by_id["bpost-mystamp"]
    assert [t["recipient"] for t in bpost["transfers_outside_eea"]["declared"]] == [
        "infosys",
        "tcs",
    ]
    [seen] = bpost["transfers_outside_eea"]["observed"]
    assert (seen["recipient"], seen["country"], seen["safeguard"], seen["declared"]) == (
        "infosys",
        "IN",
        "scc",
        True,
    )
    nego = by_id["negomarkets"]
    [processor] = nego["as_processor"]
    assert processor["purpose"] == "distributor-sales" and processor["events"] == 2
    assert processor["on_behalf_of"] == "NEGOMARKETS's distributors"
    only = report(ledger, "ropa", controller="informatique70")
    assert [s["controller"]["id"] for s in only["controllers"]] == ["informatique70"]


def test_subject_access_decrypts_for_the_dpo_and_withholds_for_a_regulator(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    subject_id = seeded(ledger)
    access = report(ledger, "access", subject_id=subject_id)
    values = {v["field"]: v["value"] for v in access["values"]}
    assert values["call_recording"] == CALL_RECORDING and values["invoice"] == INVOICE
    assert values["email"] == values["first_name"] == "[erased]"  # shredded by the erasure
    purposes = {p["purpose"]: p for p in access["purposes"]}
    assert purposes["newsletter"]["basis_at"]["basis"] is None
    assert purposes["newsletter"]["basis_at"]["valid_from"] == "2024-04-10T18:45:00+00:00"
    assert [s["basis"] for s in purposes["newsletter"]["timeline"]] == [None, "consent", None]
    assert purposes["accounting"]["basis_at"]["basis"] == "legal_obligation"
    retention = {r["purpose"]: r for r in access["retention"]}
    # due dates in the controller's time zone; 10 years run through the same date
    assert retention["call-recording"]["due"] == "2024-05-03T16:30:00+02:00"
    assert retention["call-recording"]["status"] == "upcoming"
    assert retention["accounting"]["due"] == "2034-04-03T00:00:00+02:00"  # the later invoice
    assert "newsletter" not in retention  # its key was destroyed: nothing left to keep
    # shared with Sendinblue; the others are declared for the subject's purposes (15(1)(c))
    shared = [r["recipient"] for r in access["recipients"] if r["shared"]]
    assert shared == ["sendinblue"]
    assert {s["source"] for s in access["sources"]} == {
        "newsletter-signup-form",
        "telephone-switchboard",
        "workshop-till",
    }
    withheld = report(ledger, "access", subject_id=subject_id, audience=Audience.regulator)
    text = json_bytes(withheld).decode()
    assert CALL_RECORDING not in text and "Vesoul" not in text and "[withheld]" in text
    assert withheld["personal_fields"] == "withheld"


def test_subject_access_as_of_a_past_instant_shows_what_was_held_then(
    embedded: tuple[Backends, str],
) -> None:
    ledger, subject_id = embedded
    then = report(ledger, "access", subject_id=subject_id, at=instant("2024-03-02T00:00:00Z"))
    assert {v["field"] for v in then["values"]} == {"first_name", "last_name", "email"}
    [newsletter] = then["purposes"]
    assert (
        newsletter["basis_at"]["basis"] == "consent" and newsletter["consent"]["status"] == "given"
    )
    with pytest.raises(SubjectNotFound):
        report(ledger, "access", subject_id=subject_id, at=instant("2024-01-01T00:00:00Z"))


def test_legal_basis_finds_the_campaign_sent_after_a_late_recorded_withdrawal(
    embedded: tuple[Backends, str],
) -> None:
    ledger, subject_id = embedded
    basis = report(ledger, "basis", purpose="newsletter")
    assert basis["parameters"] == {
        "subject_id": None,
        "purpose": "newsletter",
        "controller": "informatique70",
    }
    [unlawful] = basis["unlawful"]
    assert unlawful["system"] == "sendinblue-campaign-2024-04"
    assert (unlawful["verdict_then"], unlawful["verdict_now"]) == ("lawful", "unlawful")
    assert "withdrawn on 2024-04-10" in unlawful["reason_now"]
    # two campaigns and the disclosure to Sendinblue: disclosures are judged too
    assert basis["summary"]["processing"] == 3
    [subject] = basis["subjects"]
    assert sorted(j["kind"] for j in subject["processing"]) == ["processed", "processed", "shared"]
    assert [(s["from"], s["basis"]) for s in subject["timeline"]] == [
        ("2024-03-01T09:12:05+00:00", "consent"),
        ("2024-04-10T18:45:00+00:00", None),
    ]
    one = report(ledger, "basis", purpose="newsletter", subject_id=subject_id)
    assert one["subjects"] == basis["subjects"]
    before = report(ledger, "basis", purpose="newsletter", at=instant("2024-04-01T00:00:00Z"))
    assert before["unlawful"] == [] and before["subjects"][0]["basis_at"]["basis"] == "consent"
    # known at an instant before anything was recorded: no consent, every campaign unlawful
    blind = report(ledger, "basis", purpose="newsletter", known_at=instant("2020-01-01T00:00:00Z"))
    assert blind["subjects"] == []


def test_consent_proof_lists_every_consent_and_withdrawal_as_csv(
    embedded: tuple[Backends, str],
) -> None:
    ledger, subject_id = embedded
    proof = report(ledger, "consent", purpose="newsletter")
    text = render(proof, ReportFormat.csv).decode()
    assert text.startswith("# report: consent_proof")
    assert "# positions: " in text and "# at: 2024-04-30T12:00:00+00:00" in text
    rows = list(
        csv.DictReader(
            io.StringIO("".join(line for line in text.splitlines(True) if not line.startswith("#")))
        )
    )
    assert [r["record"] for r in rows] == ["consent_given", "consent_withdrawn"]
    given, withdrawn = rows
    assert given["channel"] == "web-form" and given["notice_version"] == "politique-2023-01"
    assert given["proof_ref"] == "form-submission-88412" and given["subject_id"] == subject_id
    assert given["valid_time"] == "2024-03-01T09:12:05+00:00" and given["record_time"]
    assert given["position"].endswith("/0") and given["event_id"]
    assert given["evidence"] == "[erased]"  # sealed under the newsletter key, now shredded
    assert withdrawn["proof_ref"] == "unsubscribe-20240410-5531"
    assert proof["summary"] == {
        "subjects": 1,
        "consent_given": 1,
        "consent_withdrawn": 1,
        "objection": 0,
        "consenting_at_t": 0,
    }


def test_erasure_register_verifies_each_certificate_and_the_chain(
    embedded: tuple[Backends, str],
) -> None:
    ledger, subject_id = embedded
    register = report(ledger, "erasure")
    [cert] = register["certificates"]
    assert cert["verified"] and cert["problems"] == [] and cert["sequence"] == 1
    assert (cert["subject_id"], cert["scope"], cert["reason"]) == (
        subject_id,
        "purpose:newsletter",
        "consent_withdrawn",
    )
    assert cert["retention_classes_erased"] == ["marketing"]
    assert register["register"]["intact"] and register["pending_requests"] == []
    [shredding] = register["shredding_verified"]
    assert shredding["ok"] and shredding["readable_in_scope"] == []
    earlier = report(ledger, "erasure", at=instant("2024-04-25T00:00:00Z"))
    assert earlier["certificates"] == []
    [pending] = earlier["pending_requests"]
    # one calendar month in the controller's zone: the end of 20 May in Paris
    assert pending["answer_due"] == "2024-05-20T22:00:00+00:00" and not pending["overdue"]


def test_retention_is_compliant_then_finds_the_call_recording_overdue(
    embedded: tuple[Backends, str],
) -> None:
    ledger, _ = embedded
    now = report(ledger, "retention")
    assert now["compliant"] and now["overdue"] == []
    assert [(e["purpose"], e["due"]) for e in now["upcoming"]] == [
        ("call-recording", "2024-05-03T16:30:00+02:00"),
        ("service", "2027-02-02T00:00:00+01:00"),  # Brussels
        ("accounting", "2034-04-03T00:00:00+02:00"),
    ]
    assert [e["purpose"] for e in now["undetermined"]] == ["distributor-sales"]
    later = report(ledger, "retention", at=instant("2024-06-01T00:00:00Z"))
    assert not later["compliant"]
    [overdue] = later["overdue"]
    assert overdue["purpose"] == "call-recording" and overdue["rule"].startswith("P60D")
    only = report(ledger, "retention", controller="bpost-mystamp")
    assert [e["controller"] for e in only["upcoming"]] == ["bpost-mystamp"]


def test_transfers_outside_the_eea_by_recipient_and_safeguard(
    embedded: tuple[Backends, str],
) -> None:
    ledger, _ = embedded
    transfers = report(ledger, "transfers")
    declared = {(d["controller"], d["recipient"]) for d in transfers["declared"]}
    assert ("bpost-mystamp", "infosys") in declared and ("bpost-mystamp", "tcs") in declared
    [seen] = transfers["observed"]
    assert (seen["controller"], seen["recipient"], seen["country"], seen["safeguard"]) == (
        "bpost-mystamp",
        "infosys",
        "IN",
        "scc",
    )
    assert seen["matches_declaration"] and seen["shares"] == 1 and seen["subjects"] == 1
    assert transfers["by_safeguard"]["scc"]["observed"] == ["bpost-mystamp/infosys"]
    assert transfers["summary"]["not_matching_declaration"] == 0


@pytest.mark.parametrize(
    ("kind", "given", "field"),
    [
        ("consent", {}, "purpose"),
        ("access", {}, "subject"),
        ("ropa", {"purpose": "newsletter"}, "purpose"),
        ("ropa", {"controller": "acme"}, "controller"),
        ("basis", {"purpose": "astrology", "controller": "informatique70"}, "purpose"),
        (
            "consent",
            {
                "purpose": "newsletter",
                "controller": "informatique70",
                "at": instant("2020-01-01T00:00:00Z"),
            },
            "at",
        ),
    ],
)
def test_a_request_that_cannot_be_answered_names_the_field(
    embedded: tuple[Backends, str], kind: str, given: dict[str, Any], field: str
) -> None:
    ledger, _ = embedded
    with pytest.raises(ReportRequestError) as raised:
        report(ledger, kind, **given)
    assert raised.value.field == field and raised.value.reason
    assert str(raised.value).startswith(f"{field}: ")


def test_every_format_renders_every_report(embedded: tuple[Backends, str]) -> None:
    ledger, subject_id = embedded
    requests: dict[str, dict[str, Any]] = {
        "ropa": {},
        "access": {"subject_id": subject_id},
        "basis": {"purpose": "newsletter"},
        "consent": {"purpose": "newsletter"},
        "erasure": {},
        "retention": {},
        "transfers": {},
    }
    for kind, given in requests.items():
        built = report(ledger, kind, **given)
        assert json.loads(render(built, ReportFormat.json)) == built
        text = render(built, ReportFormat.csv).decode()
        assert text.count("\n# ") >= 4 and "," in text.splitlines()[6]
        page = render(built, ReportFormat.html).decode()
        assert page.startswith("<!DOCTYPE html>") and built["title"] in page
        assert "<script" not in page and "<link" not in page and "https://" not in page
        assert page.count("http://") == page.count('xmlns="http://www.w3.org/2000/svg"')
    assert AT.year == 2024
