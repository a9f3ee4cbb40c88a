"""Certificates tell the truth: ``erased_at`` is when the keys were destroyed, by the
ledger's clock, never by an option; each certificate says when the erasure was due and
how late it was. ``retention run`` with a past instant erases what was due by then, now,
and reports it late; a future instant destroys nothing. The retention report, the
register report and the register's verification agree at every instant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.erasure.chain import read_register, verify_register
from ledger.erasure.lateness import iso_duration
from ledger.erasure.signing import load_public_key, public_key_id
from ledger.errors import Refused
from ledger.policy.calendar import zone_named
from ledger.policy.deadlines import answer_due
from ledger.reports.build import ReportKind, ReportRequest, build_report
from ledger.service.backends import Backends
from ledger.service.retention import carry_out
from tests.conftest import LedgerFactory
from tests.erasure.helpers import fixed_clock, informatique70_customer, pdl, request_erasure

#: the ledger's clock in these tests: the run happens on 1 December 2026
CLOCK = datetime(2026, 12, 1, tzinfo=UTC)
#: what the run is told to catch up on: what was due by 7 March 2025
BY = datetime(2025, 3, 7, tzinfo=UTC)
PARIS = zone_named("Europe/Paris")  # Informatique 70's zone
#: the call recording (collected 4 March 2024, 14:30 UTC) was due 60 days later
RECORDING_DUE = datetime(2024, 5, 3, 14, 30, tzinfo=UTC)


def classes(ledger: Backends, subject_id: str) -> set[str]:
    return {k.retention_class for k in ledger.keys.keys_of(subject_id)}


def report(ledger: Backends, kind: str, at: datetime) -> dict[str, Any]:
    return build_report(ledger, ReportRequest(ReportKind(kind), at=at))


def verified(ledger: Backends) -> list[str]:
    own = load_public_key(ledger.layout.signing_key)
    assert own is not None
    stored = read_register(ledger.log, ledger.registry, ledger.topics)
    return verify_register(stored, {public_key_id(own): own}).problems


def test_a_past_instant_erases_what_was_due_then_now_and_says_it_was_late(
    make_ledger: LedgerFactory,
) -> None:
    ledger = fixed_clock(make_ledger(), CLOCK)
    customer = informatique70_customer(ledger)
    (entry,) = carry_out(ledger, BY)
    assert (entry["scope"], entry["action"]) == ("purpose:call-recording", "erased")
    assert entry["erased_at"] == CLOCK.isoformat()  # not BY: when the keys were destroyed
    assert entry["late_by"] == iso_duration(CLOCK - RECORDING_DUE)
    assert classes(ledger, customer.subject_id) == {"marketing", "accounting"}

    (certificate,) = report(ledger, "erasure", CLOCK)["certificates"]
    signed = certificate["certificate"]
    assert signed["erased_at"] == CLOCK.isoformat()
    assert signed["due_at"] == "2024-05-03T16:30:00+02:00"  # in the controller's zone
    assert signed["late_by"] == certificate["late_by"] == entry["late_by"]
    assert certificate["due_at"] == signed["due_at"] and certificate["verified"]

    # at the instant the run was told about, the recording was overdue and still held:
    # the retention report says so, and the register holds no certificate yet, intact
    retention = report(ledger, "retention", BY)
    overdue = retention["overdue"]
    assert [e["retention_class"] for e in overdue] == ["call-recording"]
    register = report(ledger, "erasure", BY)
    assert register["certificates"] == [] and register["register"]["intact"]
    # after the run, nothing is overdue, and the register and its verification agree
    after = report(ledger, "retention", CLOCK)
    assert after["overdue"] == []
    assert report(ledger, "erasure", CLOCK)["register"]["intact"]
    assert verified(ledger) == []


def test_a_request_is_due_by_its_answer_deadline(make_ledger: LedgerFactory) -> None:
    ledger = fixed_clock(make_ledger(), CLOCK)
    customer = informatique70_customer(ledger)
    (outcome,) = request_erasure(ledger, customer.subject_id)
    assert outcome.certificate is not None
    assert outcome.certificate["due_at"] == answer_due(CLOCK, PARIS).isoformat()
    assert outcome.certificate["late_by"] is None


def test_a_future_instant_destroys_nothing_and_says_why(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = fixed_clock(make_ledger(), CLOCK)
    customer = informatique70_customer(ledger)
    everything = classes(ledger, customer.subject_id)
    future = datetime(2040, 1, 1, tzinfo=UTC)
    with pytest.raises(Refused) as refused:
        carry_out(ledger, future)
    assert "in the future" in str(refused.value) and "--dry-run" in (refused.value.fix or "")
    assert classes(ledger, customer.subject_id) == everything
    # listing what would be due then is fine, and destroys nothing either
    planned = {e["scope"]: e["action"] for e in carry_out(ledger, future, dry_run=True)}
    assert planned["purpose:accounting"] == "would be erased"
    assert classes(ledger, customer.subject_id) == everything
    ledger.close()

    cli = pdl("retention", "run", "--now", "2040-01-01T00:00:00Z", log_url=log_url)
    assert cli.returncode != 0 and "in the future" in cli.stderr and "fix:" in cli.stderr
    ledger = make_ledger()
    assert classes(ledger, customer.subject_id) == everything  # the invoices are kept


def test_certificates_dated_out_of_order_are_named(make_ledger: LedgerFactory) -> None:
    ledger = fixed_clock(make_ledger(), CLOCK)
    customer = informatique70_customer(ledger)
    request_erasure(ledger, customer.subject_id, {"kind": "purpose", "purpose": "newsletter"})
    # a clock set back: a register at an instant between the two would show a gap
    request_erasure(
        fixed_clock(ledger, BY),
        customer.subject_id,
        {"kind": "purpose", "purpose": "call-recording"},
    )
    (problem,) = verified(ledger)
    assert "certificate #2" in problem and "earlier than certificate #1" in problem
