"""Every processing and disclosure is judged against every rule (issue 12), on both
backends: restrictions of the subject and of a category, consent scope, a share after a
withdrawal, the claimed basis against the declared one, transfers outside the EEA."""

from __future__ import annotations

import json
from typing import Any

from ledger.service import queries
from ledger.service.backends import Backends
from ledger.service.submission import submit_lines
from projections.lawfulness import Judgement, judge
from tests.conftest import LedgerFactory

I70, BPOST = "informatique70", "bpost-mystamp"


def event(kind: str, controller: str, when: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "subject": "p@example.fr", "controller": controller, **fields} | {
        "occurred_at": when
    }


def emit(ledger: Backends, *events: dict[str, Any]) -> None:
    submit_lines(ledger.intake(), [json.dumps(e) for e in events])
    ledger.catch_up()


def processed(
    controller: str, purpose: str, when: str, categories: list[str], basis: str
) -> dict[str, Any]:
    return event(
        "DataProcessed",
        controller,
        when,
        purpose=purpose,
        claimed_basis=basis,
        categories=categories,
        system="campaigns",
    )


def shared(
    controller: str, purpose: str, when: str, recipient: str, country: str, **extra: Any
) -> dict[str, Any]:
    return event(
        "DataShared",
        controller,
        when,
        purpose=purpose,
        recipient=recipient,
        recipient_role="processor",
        country=country,
        categories=["contact"],
        **extra,
    )


def verdicts(ledger: Backends, controller: str, purpose: str) -> dict[str, Judgement]:
    subject = queries.resolve_subject(ledger, "p@example.fr", controller)
    facts = queries.basis_facts(ledger, subject, purpose, controller)
    return {
        j.processed.valid_at.isoformat()[:10]: j
        for j in judge(facts, ledger.catalogs, ledger.clock())
    }


def consent_scenario() -> list[dict[str, Any]]:
    return [
        event(
            "DataCollected",
            I70,
            "2024-03-01T09:00:00Z",
            source="signup-form",
            purposes=["newsletter"],
            values=[{"field": "email", "category": "contact", "value": "p@example.fr"}],
        ),
        event(
            "ConsentGiven",
            I70,
            "2024-03-01T09:00:05Z",
            purpose="newsletter",
            channel="web-form",
            notice_version="politique-2023-01",
            categories=["contact"],
            recipients=["sendinblue"],
        ),
        processed(I70, "newsletter", "2024-03-05T07:00:00Z", ["contact"], "consent"),
        processed(I70, "newsletter", "2024-03-06T07:00:00Z", ["identity"], "consent"),
        event(
            "RestrictionApplied",
            I70,
            "2024-03-10T07:00:00Z",
            scope={"kind": "subject"},
            reason="accuracy contested",
        ),
        processed(I70, "newsletter", "2024-03-11T07:00:00Z", ["contact"], "consent"),
        event(
            "RestrictionLifted",
            I70,
            "2024-03-12T07:00:00Z",
            scope={"kind": "subject"},
            reason="accuracy checked",
        ),
        processed(I70, "newsletter", "2024-03-13T07:00:00Z", ["contact"], "consent"),
        event(
            "RestrictionApplied",
            I70,
            "2024-03-20T07:00:00Z",
            scope={"kind": "category", "category": "contact"},
            reason="accuracy contested",
        ),
        processed(I70, "newsletter", "2024-03-21T07:00:00Z", ["contact"], "consent"),
        event(
            "RestrictionLifted",
            I70,
            "2024-03-22T07:00:00Z",
            scope={"kind": "category", "category": "contact"},
            reason="accuracy checked",
        ),
        shared(I70, "newsletter", "2024-03-25T07:00:00Z", "sendinblue", "FR"),
        event(
            "ConsentWithdrawn",
            I70,
            "2024-04-01T07:00:00Z",
            purpose="newsletter",
            channel="unsubscribe-link",
        ),
        shared(I70, "newsletter", "2024-04-11T07:00:00Z", "sendinblue", "FR"),
    ]


def test_restrictions_consent_scope_and_shares_are_judged(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    *before, late_share = consent_scenario()
    # Records of one transaction on other partitions get append times a few ms apart, so
    # the share is emitted after the withdrawal: "then" needs it recorded after it.
    emit(ledger, *before)
    emit(ledger, late_share)
    found = verdicts(ledger, I70, "newsletter")
    lawful = {day for day, j in found.items() if j.verdict_now == "lawful"}
    assert lawful == {"2024-03-05", "2024-03-13", "2024-03-25"}
    assert "covers contact, not identity" in found["2024-03-06"].breaches_now[0]
    assert found["2024-03-11"].now.status.reason.startswith("the subject's data restricted")
    assert found["2024-03-21"].breaches_now[0].startswith("category contact restricted")
    after = found["2024-04-11"]
    assert after.processed.kind == "shared" and after.verdict_then == "unlawful"
    assert after.now.status.reason.startswith("consent withdrawn")


def test_claimed_basis_and_transfers_are_verdicts(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    emit(
        ledger,
        processed(BPOST, "advertising", "2024-05-01T07:00:00Z", ["contact"], "consent"),
        processed(BPOST, "advertising", "2024-05-02T07:00:00Z", ["contact"], "legitimate_interest"),
        shared(BPOST, "advertising", "2024-05-03T07:00:00Z", "tcs", "IN", safeguard="adequacy"),
        shared(BPOST, "advertising", "2024-05-04T07:00:00Z", "tcs", "IN", safeguard="scc"),
        shared(BPOST, "advertising", "2024-05-05T07:00:00Z", "tcs", "IN"),  # recorded, not lost
        shared(BPOST, "advertising", "2024-05-06T07:00:00Z", "tcs", "IN", safeguard="bcr"),
    )
    found = verdicts(ledger, BPOST, "advertising")
    verdict = {day: j.verdict_now for day, j in found.items()}
    assert verdict == {
        "2024-05-01": "unlawful",
        "2024-05-02": "lawful",
        "2024-05-03": "unlawful",
        "2024-05-04": "lawful",
        "2024-05-05": "unlawful",
        "2024-05-06": "unlawful",
    }
    assert found["2024-05-01"].breaches_then == (
        "the system claimed consent; the catalog declares legitimate_interest",
    )
    assert "no EU adequacy decision in force" in found["2024-05-03"].breaches_now[0]
    assert "without a safeguard" in found["2024-05-05"].breaches_now[0]
    assert "the catalog declares scc" in found["2024-05-06"].breaches_now[0]
