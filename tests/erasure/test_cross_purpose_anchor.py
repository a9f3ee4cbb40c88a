"""A retention anchor may be another purpose's event: NEGOMARKETS keeps its suppression
list "3 years from the unsubscription" (seed 003), the withdrawal of the newsletter's
consent. Before, the anchor was looked up under the suppression list itself, never
found, and the list was kept forever."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ledger.erasure.holds import obligation_grounds
from ledger.erasure.retention import Collected, SubjectFacts, retention_schedule
from ledger.policy.calendar import zone_named
from ledger.policy.catalog import Catalogs
from ledger.service.erasure import run_processor
from ledger.service.retention import schedule
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import fixed_clock
from tests.scenario import canary

CATALOGS = Catalogs.packaged()
PARIS = zone_named("Europe/Paris")
SUBJECT = "sub_" + "3" * 32
SUBSCRIBED = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)
UNSUBSCRIBED = datetime(2024, 9, 10, 8, 0, tzinfo=UTC)
#: three years from 10 September 2024, Paris time: kept through 10 September 2027
DUE = datetime(2027, 9, 11, tzinfo=PARIS)


def test_the_suppression_list_is_due_three_years_after_the_unsubscription() -> None:
    facts = SubjectFacts(
        SUBJECT,
        (Collected("negomarkets", ("suppression-list",), "suppression-list", UNSUBSCRIBED),),
        {},
        {"negomarkets/newsletter": UNSUBSCRIBED},
    )
    (entry,) = retention_schedule(facts, CATALOGS, UNSUBSCRIBED)
    assert entry.due == DUE
    assert entry.rule_text() == "P3Y from consent_withdrawn of newsletter, then erase"
    assert "consent_withdrawn of newsletter (2024-09-10T10:00:00+02:00)" in entry.explanation
    # and the obligation protecting it from erasure requests ends then too
    (ground,) = obligation_grounds(
        facts, CATALOGS, UNSUBSCRIBED, {"suppression-list"}, "negomarkets"
    )
    assert ground.expires == DUE


def test_without_an_unsubscription_the_list_has_no_due_date_yet() -> None:
    facts = SubjectFacts(
        SUBJECT,
        (Collected("negomarkets", ("suppression-list",), "suppression-list", SUBSCRIBED),),
        {},
        {},
    )
    (entry,) = retention_schedule(facts, CATALOGS, SUBSCRIBED)
    assert entry.due is None  # another purpose's event is not implied by the collection


def test_the_ledger_schedules_it_and_a_certificate_keeps_it_until_then(
    make_ledger: LedgerFactory,
) -> None:
    ledger = fixed_clock(make_ledger(), datetime(2024, 10, 1, tzinfo=UTC))
    email = canary("email") + "@example.fr"
    person = {"subject": email, "controller": "negomarkets"}
    events = [
        {
            **person,
            "type": "DataCollected",
            "occurred_at": SUBSCRIBED.isoformat(),
            "source": "newsletter-form",
            "purposes": ["newsletter"],
            "values": [{"field": "email", "category": "identity", "value": email}],
        },
        {
            **person,
            "type": "ConsentGiven",
            "occurred_at": SUBSCRIBED.isoformat(),
            "purpose": "newsletter",
            "channel": "web-form",
            "notice_version": "1",
        },
        {
            **person,
            "type": "ConsentWithdrawn",
            "occurred_at": UNSUBSCRIBED.isoformat(),
            "purpose": "newsletter",
            "channel": "unsubscribe-link",
        },
        {
            **person,
            "type": "DataCollected",
            "occurred_at": UNSUBSCRIBED.isoformat(),
            "source": "unsubscribe-link",
            "purposes": ["suppression-list"],
            "values": [{"field": "email", "category": "identity", "value": email}],
        },
    ]
    submit_lines(ledger.intake(), [json.dumps(e) for e in events])
    subject_id = ledger.keys.subject_for(email, "negomarkets")
    assert subject_id is not None
    due = {
        s.due.retention_class: s.due.due
        for s in schedule(ledger, ledger.clock())
        if s.due.subject_id == subject_id
    }
    assert due["suppression-list"] == DUE

    intake = ledger.intake()
    request = {
        **person,
        "type": "ErasureRequested",
        "subject_id": subject_id,
        "occurred_at": ledger.clock().isoformat(),
        "scope": {"kind": "subject"},
        "reason": "request",
    }
    del request["subject"]
    intake.append([intake.prepare(request)])
    (outcome,) = run_processor(ledger)
    certificate = outcome.certificate
    assert certificate is not None
    kept = {r["retention_class"]: r["grounds"] for r in certificate["retained"]}
    (ground,) = kept["suppression-list"]
    assert ground["expires"] == DUE.isoformat()  # the retained ground carries its expiry
