"""The retention engine as pure functions over the seed catalogs' rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.erasure.retention import Collected, SubjectFacts, due_by, retention_schedule
from ledger.policy.catalog import Catalogs

CATALOGS = Catalogs.packaged()
SUBJECT = "sub_" + "1" * 32
T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
NOW = datetime(2024, 3, 6, tzinfo=UTC)


def facts(
    *collected: Collected,
    anchors: dict[str, datetime] | None = None,
    withdrawn: dict[str, datetime] | None = None,
) -> SubjectFacts:
    return SubjectFacts(SUBJECT, collected, anchors or {}, withdrawn or {})


def value(
    purpose: str, key_class: str, at: datetime, controller: str = "informatique70"
) -> Collected:
    return Collected(controller, (purpose,), key_class, at)


def due_of(subject: SubjectFacts, key_class: str, now: datetime = NOW) -> datetime | None:
    (entry,) = [
        d for d in retention_schedule(subject, CATALOGS, now) if d.retention_class == key_class
    ]
    return entry.due


def test_call_recordings_are_due_60_days_after_collection() -> None:
    subject = facts(value("call-recording", "call-recording", T0))
    assert due_of(subject, "call-recording") == T0 + timedelta(days=60)
    (entry,) = retention_schedule(subject, CATALOGS, NOW)
    assert entry.rule_text() == "P60D from collection, then erase"
    assert "60 jours" in entry.rule.quote
    assert due_by([entry], T0 + timedelta(days=60) - timedelta(seconds=1)) == []
    assert due_by([entry], T0 + timedelta(days=60)) == [entry]


def test_the_earliest_value_of_a_class_decides() -> None:
    later = T0 + timedelta(days=20)
    subject = facts(
        value("call-recording", "call-recording", later),
        value("call-recording", "call-recording", T0),
    )
    assert due_of(subject, "call-recording", later) == T0 + timedelta(days=60)


def test_free_call_back_is_due_48_hours_after_collection() -> None:
    assert due_of(facts(value("free-callback", "free-callback", T0)), "free-callback") == (
        T0 + timedelta(hours=48)
    )


def test_marketing_counts_3_years_from_the_last_contact_which_moves() -> None:
    signup = datetime(2024, 3, 1, 9, 12, tzinfo=UTC)
    contact = datetime(2025, 6, 1, tzinfo=UTC)
    base = value("newsletter", "marketing", signup)
    assert due_of(facts(base), "marketing") == signup + timedelta(days=3 * 365)
    moved = facts(base, anchors={"last_contact/*": contact})
    assert due_of(moved, "marketing", contact) == contact + timedelta(days=3 * 365)
    # a contact recorded for another purpose only moves that purpose's rule
    other = facts(base, anchors={"last_contact/accounting": contact})
    assert due_of(other, "marketing", contact) == signup + timedelta(days=3 * 365)
    # judged before the contact happened, the contact is not known yet
    assert due_of(moved, "marketing", contact - timedelta(days=1)) == signup + timedelta(days=1095)


def test_an_anchor_still_in_the_future_leaves_the_data_not_yet_due() -> None:
    subject = facts(value("customer-management", "customer-management", T0))
    assert due_of(subject, "customer-management") is None  # P5Y from contract_end
    ended = datetime(2024, 3, 5, tzinfo=UTC)
    subject = facts(subject.collected[0], anchors={"contract_end/*": ended})
    assert due_of(subject, "customer-management") == ended + timedelta(days=5 * 365)


def test_consent_withdrawal_ends_retention_early() -> None:
    at = datetime(2023, 1, 10, tzinfo=UTC)
    withdrawn = datetime(2023, 6, 1, tzinfo=UTC)
    base = value("marketing-consent", "marketing-consent", at, "laposte-digiposte")
    assert due_of(facts(base), "marketing-consent", withdrawn) == at + timedelta(days=1095)
    early = facts(base, withdrawn={"laposte-digiposte/marketing-consent": withdrawn})
    (entry,) = retention_schedule(early, CATALOGS, withdrawn)
    assert entry.due == withdrawn and "ended early by consent_withdrawn" in entry.explanation


def test_anonymise_then_erase_reports_the_next_step() -> None:
    closed = datetime(2023, 2, 1, tzinfo=UTC)
    subject = facts(
        value("after-sales", "after-sales", datetime(2023, 1, 10, tzinfo=UTC), "laposte-digiposte"),
        anchors={"request_closed/*": closed},
    )
    (entry,) = retention_schedule(subject, CATALOGS, closed)
    assert entry.due == closed and entry.rule.action == "anonymise"
    assert entry.then == (
        f"then erase at {(closed + timedelta(days=390)).isoformat()} "
        f"(P13M from request_closed ({closed.isoformat()}))",
    )


@pytest.mark.parametrize("purpose", ["newsletter", "marketing"])
def test_purposes_sharing_a_class_give_one_entry(purpose: str) -> None:
    at = datetime(2024, 3, 1, tzinfo=UTC)
    subject = facts(value("newsletter", "marketing", at), value(purpose, "marketing", at))
    assert [d.retention_class for d in retention_schedule(subject, CATALOGS, NOW)] == ["marketing"]
