"""The Art. 30 record: every item of 30(1) per controller (or "not stated in the notice"),
retention in words, and 30(2) — what a processor did for each controller it served, by
controller id. An event naming a processor its controller never declared is refused."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import Refused
from ledger.policy.catalog import load_catalog
from ledger.policy.publish import publication
from ledger.reports.record_of_processing import NOT_STATED
from ledger.service.backends import Backends
from ledger.service.erasure import at_instant
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.reports.support import instant, report, seeded

DISTRIBUTOR = Path(__file__).with_name("distributor.toml")


def _sections(built: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["controller"]["id"]: s for s in built["controllers"]}


def test_every_item_of_30_1_is_given_or_said_to_be_missing(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    seeded(ledger)
    by_id = _sections(report(ledger, "ropa"))

    i70 = by_id["informatique70"]
    assert i70["contact"]["email"] == "mesdroits@informatique70.com"  # (a)
    assert i70["contact"]["dpo"] == NOT_STATED, "the notice names no DPO: not invented"
    assert i70["security"]["stated"] and "mesures techniques" in i70["security"]["text"]  # (g)
    assert "Clients" in i70["data_subjects"]["text"]  # (c)
    bpost = by_id["bpost-mystamp"]
    assert "data protection office" in bpost["contact"]["dpo"]
    assert bpost["security"] == {"text": NOT_STATED, "stated": False}
    assert [s["id"] for s in bpost["data_subjects"]["categories"]] == [
        "customers",
        "represented-people",
    ]
    laposte = by_id["laposte-digiposte"]
    assert set(laposte["contact"].values()) == {NOT_STATED, None}
    assert by_id["french-website"]["security"]["stated"]

    for section in by_id.values():  # (f): words, never duration codes
        for p in section["purposes"]:
            for words in p["retention_words"].values():
                assert "P0D" not in words and not words.startswith("P"), words
    newsletter = next(p for p in i70["purposes"] if p["id"] == "newsletter")
    assert "withdrawal of consent" in newsletter["retention_words"]["en"]
    assert "retrait du consentement" in newsletter["retention_words"]["fr"]


def _publish_distributor(ledger: Backends) -> None:
    catalog = load_catalog(DISTRIBUTOR)
    ledger.intake().append([publication(catalog, ledger.clock())])


def _distributor_order(subject: str, when: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "DataCollected",
        "subject": subject,
        "controller": "carrelage-dupont",
        "occurred_at": when,
        "source": "distributor-order-portal",
        "purposes": ["orders"],
        "values": [{"field": "order", "category": "economic", "value": "commande 12"}],
        **fields,
    }


def _distributor_processing(subject: str, when: str) -> dict[str, Any]:
    return {
        "type": "DataProcessed",
        "subject": subject,
        "controller": "carrelage-dupont",
        "processor": "negomarkets",
        "occurred_at": when,
        "purpose": "orders",
        "claimed_basis": "contract",
        "categories": ["economic"],
        "system": "supplier-dispute-desk",
    }


def test_a_processor_record_counts_what_it_did_per_controller_served(
    make_ledger: LedgerFactory,
) -> None:
    first = make_ledger()
    at_instant(first, instant("2024-02-01T00:00:00Z"))
    _publish_distributor(first)
    ledger = make_ledger()  # a restart: its catalogs include the published one
    at_instant(ledger, instant("2024-06-01T00:00:00Z"))
    events = [
        _distributor_order("C-1", "2024-03-01T10:00:00Z", processor="negomarkets"),
        _distributor_processing("C-1", "2024-03-02T10:00:00Z"),
        _distributor_order("C-2", "2024-03-05T10:00:00Z", processor="negomarkets"),
        _distributor_order("C-3", "2024-03-06T10:00:00Z"),  # done by the distributor itself
    ]
    submit_lines(ledger.intake(), [json.dumps(e) for e in events])

    built = report(ledger, "ropa", controller="negomarkets", at=instant("2024-05-01T00:00:00Z"))
    [nego] = built["controllers"]
    [served] = nego["processing_for_controllers"]
    assert served["controller"] == "carrelage-dupont" and served["name"] == "Carrelage Dupont"
    assert (served["events"], served["subjects"]) == (3, 2)
    assert served["purposes"] == ["orders"]
    assert served["kinds"] == ["DataCollected", "DataProcessed"]
    assert served["declared_as_processor"] is True
    assert served["first_at"] == "2024-03-01T10:00:00+00:00"

    both = _sections(report(ledger, "ropa", at=instant("2024-05-01T00:00:00Z")))
    distributor = both["carrelage-dupont"]
    assert distributor["processing_for_controllers"] == []
    assert distributor["processors_seen"][0]["processor"] == "negomarkets"
    assert distributor["data_subjects"] == {"text": NOT_STATED, "stated": False, "categories": []}


def test_an_undeclared_processor_is_refused_with_the_fix(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    at_instant(ledger, datetime.fromisoformat("2024-06-01T00:00:00+00:00"))
    event = {
        "type": "ConsentGiven",
        "subject": "someone@example.fr",
        "controller": "informatique70",
        "processor": "shadow-mailer",
        "occurred_at": "2024-03-01T09:12:05Z",
        "purpose": "newsletter",
        "channel": "web-form",
        "notice_version": "politique-2023-01",
    }
    with pytest.raises(Refused) as refused:
        submit_lines(ledger.intake(), [json.dumps(event)])
    text = str(refused.value)
    assert "processor" in text  # the field
    assert "is not a processor declared in catalog informatique70" in text  # the rule
    assert "sendinblue" in text  # the fix names the declared processors
    assert "declare it in the catalog's recipients" in text
    assert "someone@example.fr" not in text, "no personal data in the refusal"
