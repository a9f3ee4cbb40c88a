"""How scopes map to keys, and what Art. 17(3) keeps: catalog obligations and holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import (
    CONTROLLER,
    fixed_clock,
    informatique70_customer,
    pdl,
    request_erasure,
)

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def destroyed_classes(certificate: dict[str, object]) -> set[str]:
    erased = certificate["erased"]
    assert isinstance(erased, dict)
    return {k["retention_class"] for k in erased["keys_destroyed"]}


def test_a_purpose_scope_erases_its_class_and_the_purposes_sharing_it(
    make_ledger: LedgerFactory,
) -> None:
    ledger = fixed_clock(make_ledger(), NOW)
    customer = informatique70_customer(ledger)
    (outcome,) = request_erasure(
        ledger, customer.subject_id, {"kind": "purpose", "purpose": "newsletter"}
    )
    cert = outcome.certificate
    assert cert is not None and destroyed_classes(cert) == {"marketing"}
    assert cert["erased"]["purposes"] == ["marketing", "newsletter"]
    assert cert["retained"] == [] and cert["scope"] == "purpose:newsletter"
    assert any("newsletter share retention class marketing" in n for n in cert["notes"])
    assert {k.retention_class for k in ledger.keys.keys_of(customer.subject_id)} == {
        "call-recording",
        "accounting",
    }


def test_a_category_scope_erases_the_classes_collecting_it_except_obligations(
    make_ledger: LedgerFactory,
) -> None:
    ledger = fixed_clock(make_ledger(), NOW)
    customer = informatique70_customer(ledger)
    (voice,) = request_erasure(
        ledger, customer.subject_id, {"kind": "category", "category": "voice_recording"}
    )
    assert voice.certificate is not None
    assert destroyed_classes(voice.certificate) == {"call-recording"}
    (identity,) = request_erasure(
        ledger, customer.subject_id, {"kind": "category", "category": "identity"}
    )
    cert = identity.certificate
    assert cert is not None and destroyed_classes(cert) == {"marketing"}
    assert [r["retention_class"] for r in cert["retained"]] == ["accounting"]
    assert "free-callback" in cert["not_held"]  # covered, but this subject never had one
    assert any("other categories sealed under the same keys" in n for n in cert["notes"])


def test_a_legal_hold_keeps_its_scope_with_its_article_and_end(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    ledger.close()
    placed = pdl(
        "hold",
        "place",
        customer.email,
        "--scope",
        "purpose:call-recording",
        "--reason",
        "litigation 2024-118",
        "--article",
        "Art. 17(3)(e)",
        "--until",
        "2030-01-01T00:00:00Z",
        log_url=log_url,
    )
    assert placed.returncode == 0, placed.stderr
    erased = pdl("erase", customer.email, "--reason", "request", "--json", log_url=log_url)
    assert erased.returncode == 0, erased.stderr
    cert = json.loads(erased.stdout)
    # the hold's free-text reason became a sealed note under the subject's `requests` key,
    # which a full erasure destroys; the hold itself (id, article, end) stays in force
    assert destroyed_classes(cert) == {"marketing", "requests"}
    assert cert["erased"]["identity_mapping_destroyed"] is False  # something is retained
    kept = {r["retention_class"]: r["grounds"] for r in cert["retained"]}
    assert set(kept) == {"call-recording", "accounting"}
    (hold,) = kept["call-recording"]
    assert (hold["ground"], hold["article"], hold["expires"]) == (
        "legal_hold",
        "Art. 17(3)(e)",
        "2030-01-01T00:00:00+00:00",
    )
    # the hold's id, not its free-text reason: a certificate outlives the erasure
    assert hold["reason"].startswith("legal hold hold_") and "LegalHoldPlaced" in hold["source"]
    assert "litigation 2024-118" not in json.dumps(cert)


def test_an_expired_or_released_hold_keeps_nothing(make_ledger: LedgerFactory) -> None:
    placed_at = datetime(2024, 4, 1, tzinfo=UTC)
    ledger = fixed_clock(make_ledger(), datetime(2024, 4, 2, tzinfo=UTC))
    customer = informatique70_customer(ledger)
    hold = {
        "subject_id": customer.subject_id,
        "controller": CONTROLLER,
        "occurred_at": placed_at.isoformat(),
        "reason": "legal_claims",
    }
    submit_lines(
        ledger.intake(),
        [
            json.dumps(  # lapses on 1 May, a month before the erasure
                {
                    **hold,
                    "type": "LegalHoldPlaced",
                    "hold_id": "hold_" + "a" * 32,
                    "scope": {"kind": "subject"},
                    "article": "Art. 17(3)(e)",
                    "until": "2024-05-01T00:00:00Z",
                }
            ),
            json.dumps(
                {
                    **hold,
                    "type": "LegalHoldPlaced",
                    "hold_id": "hold_" + "b" * 32,
                    "article": "Art. 17(3)(e)",
                    "scope": {"kind": "category", "category": "voice_recording"},
                }
            ),
            json.dumps(  # released the next day
                {
                    **hold,
                    "type": "LegalHoldReleased",
                    "hold_id": "hold_" + "b" * 32,
                    "occurred_at": "2024-04-02T00:00:00Z",
                    "scope": {"kind": "category", "category": "voice_recording"},
                }
            ),
        ],
    )
    fixed_clock(ledger, NOW)
    (outcome,) = request_erasure(ledger, customer.subject_id)
    assert outcome.certificate is not None
    assert destroyed_classes(outcome.certificate) == {"marketing", "call-recording"}
    assert [r["retention_class"] for r in outcome.certificate["retained"]] == ["accounting"]
