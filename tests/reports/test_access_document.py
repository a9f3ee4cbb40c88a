"""The Art. 15 answer for a person: every value under every purpose with its source,
recipients declared and shared, every transfer with its own safeguard; its HTML in French
and in English renders in headless Chromium with no console error, and printed to PDF
keeps every column on the page (checked on the PDF's text with poppler's pdftotext)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ledger.reports.access_language import access_html
from ledger.service.backends import Backends
from ledger.service.erasure import at_instant
from ledger.service.queries import resolve_subject
from ledger.service.settings import Settings
from ledger.service.submission import submit_lines
from tests.conftest import unavailable
from tests.reports.support import instant, report
from tests.reports.test_html_in_chromium import chromium, screenshot

PERSON = "alex.durand@example.fr"
#: bpost knows the same person under another identifier (subject ids are per controller)
BPOST_PERSON = "alex.durand@example.be"
NOW = instant("2024-06-01T00:00:00Z")


def _line(kind: str, controller: str, at: str, **fields: Any) -> str:
    subject = BPOST_PERSON if controller == "bpost-mystamp" else PERSON
    return json.dumps(
        {"type": kind, "subject": subject, "controller": controller, "occurred_at": at, **fields}
    )


def _value(field: str, category: str, value: str) -> dict[str, str]:
    return {"field": field, "category": category, "value": value}


LINES = [
    # informatique70: values under four purposes, email under two of them
    _line(
        "DataCollected",
        "informatique70",
        "2024-03-01T09:00:00Z",
        source="newsletter-form",
        purposes=["newsletter"],
        values=[_value("first_name", "identity", "Alex"), _value("email", "contact", "a@d.fr")],
    ),
    _line(
        "ConsentGiven",
        "informatique70",
        "2024-03-01T09:00:05Z",
        purpose="newsletter",
        channel="web-form",
        notice_version="2023-01",
        proof_ref="f-1",
        language="fr-FR",
        jurisdiction="FR",
        evidence="198.51.100.7",
    ),
    _line(
        "DataCollected",
        "informatique70",
        "2024-03-02T10:00:00Z",
        source="workshop-till",
        purposes=["customer-management"],
        values=[
            _value("email", "contact", "alex@work.fr"),
            _value("phone_note", "transaction", "repair 42"),
        ],
    ),
    _line(
        "DataCollected",
        "informatique70",
        "2024-03-03T10:00:00Z",
        source="workshop-till",
        purposes=["accounting"],
        values=[
            _value("invoice", "transaction", "FA-77 laptop"),
            _value("iban", "payment", "FR76-XXXX"),
        ],
    ),
    _line(
        "DataCollected",
        "informatique70",
        "2024-03-04T10:00:00Z",
        source="switchboard",
        purposes=["call-recording"],
        values=[_value("call", "voice_recording", "rec://1.wav")],
    ),
    _line(
        "DataShared",
        "informatique70",
        "2024-03-05T10:00:00Z",
        recipient="oney",
        recipient_role="third_party",
        country="FR",
        purpose="customer-management",
        categories=["identity", "transaction"],
    ),
    # bpost: two SCC transfers then one BCR, to India
    _line(
        "DataCollected",
        "bpost-mystamp",
        "2024-03-01T10:00:00Z",
        source="mystamp-order-form",
        purposes=["service"],
        values=[_value("first_name", "identity", "Alex")],
    ),
    *[
        _line(
            "DataShared",
            "bpost-mystamp",
            at,
            recipient="infosys",
            recipient_role="processor",
            country="IN",
            safeguard=sg,
            purpose="service",
            categories=["identity"],
        )
        for at, sg in (
            ("2024-03-06T10:00:00Z", "scc"),
            ("2024-03-07T10:00:00Z", "scc"),
            ("2024-03-08T10:00:00Z", "bcr"),
        )
    ],
]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    ledger = Backends(Settings.from_environment(None, tmp_path_factory.mktemp("data")))
    try:
        at_instant(ledger, NOW)
        submit_lines(ledger.intake(), LINES)
        return {
            person: report(ledger, "access", subject_id=resolve_subject(ledger, person), at=NOW)
            for person in (PERSON, BPOST_PERSON)
        }
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def access(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return reports[PERSON]


@pytest.fixture(scope="module")
def bpost_access(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return reports[BPOST_PERSON]


def test_every_value_under_every_purpose_with_its_source(access: dict[str, Any]) -> None:
    held = {(v["field"], tuple(v["purposes"]), v["source"]) for v in access["values"]}
    assert ("email", ("newsletter",), "newsletter-form") in held
    assert ("email", ("customer-management",), "workshop-till") in held
    mine = [v for v in access["values"] if v["controller"] == "informatique70"]
    assert len(mine) == 7
    assert {p for v in mine for p in v["purposes"]} == {
        "newsletter",
        "customer-management",
        "accounting",
        "call-recording",
    }


def test_recipients_declared_and_shared(access: dict[str, Any]) -> None:
    by_id = {r["recipient"]: r for r in access["recipients"]}
    assert by_id["sendinblue"]["declared"] and not by_id["sendinblue"]["shared"]
    assert by_id["oney"]["shared"]


def test_every_transfer_keeps_its_safeguard(bpost_access: dict[str, Any]) -> None:
    found = {(t["recipient"], t["safeguard"]): t["shares"] for t in bpost_access["transfers"]}
    assert found == {("infosys", "bcr"): 1, ("infosys", "scc"): 2}


def test_rights_authority_and_automated_decisions(
    access: dict[str, Any], bpost_access: dict[str, Any]
) -> None:
    info = {i["controller"]: i for r in (access, bpost_access) for i in r["controllers_info"]}
    assert "CNIL" in info["informatique70"]["complaint_authority"]["name"]
    assert "APD" in info["bpost-mystamp"]["complaint_authority"]["name"]
    assert info["bpost-mystamp"]["automated_decisions"]["none_declared"] is True
    assert "17" in info["informatique70"]["rights"]
    words = {c["category"]: c["rules"] for c in access["retention_by_category"]}
    assert any("60 jours" in r["fr"] for r in words["voice_recording"])


def pdf_text(pdf: Path) -> str:
    found = shutil.which("pdftotext")
    if found is None:
        problem = "pdftotext is not installed (apt-get install poppler-utils)"
        unavailable(problem, "PDL_REQUIRE_CHROMIUM")
    done = subprocess.run(
        [found, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@pytest.mark.parametrize(
    ("language", "headings"),
    [
        ("fr", ("Les données que nous détenons", "Finalité", "Destinataire", "Garantie", "CNIL")),
        ("en", ("The data we hold", "Purpose", "Recipient", "Safeguard", "CNIL")),
    ],
)
def test_access_document_renders_and_prints(
    reports: dict[str, dict[str, Any]], tmp_path: Path, language: str, headings: tuple[str, ...]
) -> None:
    page = tmp_path / f"access-{language}.html"
    # one document for both answers, so the transfers table is printed too
    html = access_html(reports[PERSON], language)
    second = access_html(reports[BPOST_PERSON], language)
    html = html.replace("</body></html>", second.split("<body>", 1)[1])
    page.write_text(html, encoding="utf-8")
    errors = screenshot(page, tmp_path / "shot.png", tmp_path / "profile")
    assert errors == []
    pdf = tmp_path / "access.pdf"
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            f"--user-data-dir={tmp_path / 'profile-pdf'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and pdf.is_file(), done.stderr[-2000:]
    text = " ".join(pdf_text(pdf).split())
    for heading in headings:
        assert heading in text, heading
    # the last column of each wide table is on the page
    for last in ("2024-03-01", "Sendinblue", "2024-03-06"):
        assert last in text, last
