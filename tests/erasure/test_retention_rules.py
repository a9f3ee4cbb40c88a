"""The retention engine as pure functions over the seed catalogs' rules.

Months and years are counted as calendar periods in the controller's time zone
(``ledger.policy.calendar``): a due date is the first instant after the promised date,
so ``datetime(2027, 3, 2, tzinfo=PARIS)`` reads "kept through 1 March 2027, Paris time".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.erasure.holds import obligation_grounds
from ledger.erasure.retention import Collected, SubjectFacts, due_by, retention_schedule
from ledger.policy.calendar import zone_named
from ledger.policy.catalog import Catalogs

CATALOGS = Catalogs.packaged()
PARIS = zone_named("Europe/Paris")
BRUSSELS = zone_named("Europe/Brussels")
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
    through_1_march_2027 = datetime(2027, 3, 2, tzinfo=PARIS)
    assert due_of(facts(base), "marketing") == through_1_march_2027
    moved = facts(base, anchors={"last_contact/*": contact})
    # 00:00 UTC on 1 June is 02:00 in Paris: kept through 1 June 2028
    assert due_of(moved, "marketing", contact) == datetime(2028, 6, 2, tzinfo=PARIS)
    # a contact recorded for another purpose only moves that purpose's rule
    other = facts(base, anchors={"last_contact/accounting": contact})
    assert due_of(other, "marketing", contact) == through_1_march_2027
    # judged before the contact happened, the contact is not known yet
    assert due_of(moved, "marketing", contact - timedelta(days=1)) == through_1_march_2027


def test_an_anchor_still_in_the_future_leaves_the_data_not_yet_due() -> None:
    subject = facts(value("customer-management", "customer-management", T0))
    assert due_of(subject, "customer-management") is None  # P5Y from contract_end
    ended = datetime(2024, 3, 5, tzinfo=UTC)
    subject = facts(subject.collected[0], anchors={"contract_end/*": ended})
    assert due_of(subject, "customer-management") == datetime(2029, 3, 6, tzinfo=PARIS)


def test_consent_withdrawal_ends_retention_early() -> None:
    at = datetime(2023, 1, 10, tzinfo=UTC)
    withdrawn = datetime(2023, 6, 1, tzinfo=UTC)
    base = value("marketing-consent", "marketing-consent", at, "laposte-digiposte")
    assert due_of(facts(base), "marketing-consent", withdrawn) == datetime(
        2026, 1, 11, tzinfo=PARIS
    )
    early = facts(base, withdrawn={"laposte-digiposte/marketing-consent": withdrawn})
    (entry,) = retention_schedule(early, CATALOGS, withdrawn)
    assert entry.due == withdrawn and "ended early by consent_withdrawn" in entry.explanation
    assert entry.due is not None and entry.due.isoformat() == "2023-06-01T02:00:00+02:00"


def test_anonymise_then_erase_reports_the_next_step() -> None:
    closed = datetime(2023, 2, 1, tzinfo=UTC)
    subject = facts(
        value("after-sales", "after-sales", datetime(2023, 1, 10, tzinfo=UTC), "laposte-digiposte"),
        anchors={"request_closed/*": closed},
    )
    (entry,) = retention_schedule(subject, CATALOGS, closed)
    assert entry.due == closed and entry.rule.action == "anonymise"
    assert entry.then == (
        "then erase at 2024-03-02T00:00:00+01:00 (P13M from request_closed "
        "(2023-02-01T01:00:00+01:00), kept through 2024-03-01 Europe/Paris)",
    )


@pytest.mark.parametrize("purpose", ["newsletter", "marketing"])
def test_purposes_sharing_a_class_give_one_entry(purpose: str) -> None:
    at = datetime(2024, 3, 1, tzinfo=UTC)
    subject = facts(value("newsletter", "marketing", at), value(purpose, "marketing", at))
    assert [d.retention_class for d in retention_schedule(subject, CATALOGS, NOW)] == ["marketing"]


def test_la_poste_complaints_are_due_13_months_on_not_6_days_early() -> None:
    """La Poste (seed 000): "Pour la gestion des réclamations : conservation pendant 13 mois
    à compter de la date de réception de la réclamation". Received on 16 January 2025, a
    complaint is kept through 16 February 2026 in Paris; 13 x 30 days would have erased
    it on 10 February."""
    received = datetime(2025, 1, 16, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    subject = facts(value("complaints", "complaints", received, "laposte-digiposte"))
    (entry,) = retention_schedule(subject, CATALOGS, received)
    assert (
        "13 mois" in entry.rule.quote
        and entry.rule_text() == "P13M from request_received, then erase"
    )
    assert entry.due == datetime(2026, 2, 17, tzinfo=PARIS)
    assert entry.due is not None and entry.due.isoformat() == "2026-02-17T00:00:00+01:00"
    assert entry.explanation == (
        "P13M from request_received (2025-01-16T10:00:00+01:00), "
        "kept through 2026-02-16 Europe/Paris"
    )
    assert due_by([entry], datetime(2026, 2, 10, 10, 0, tzinfo=PARIS)) == []
    assert due_by([entry], datetime(2026, 2, 16, 23, 59, 59, tzinfo=PARIS)) == []
    assert due_by([entry], datetime(2026, 2, 16, 23, 0, tzinfo=UTC)) == [entry]


def test_la_poste_mobile_app_data_goes_after_12_months_without_connection() -> None:
    """La Poste (seed 000): "Pour l'application mobile : sans connexion pendant 12 mois :
    suppression des données à caractère personnelle"."""
    first = datetime(2024, 11, 2, tzinfo=UTC)
    connected = datetime(2025, 2, 5, 17, 0, tzinfo=UTC)
    subject = facts(
        value("mobile-app", "mobile-app", first, "laposte-digiposte"),
        anchors={"app_connection/*": connected},
    )
    assert due_of(subject, "mobile-app", connected) == datetime(2026, 2, 6, tzinfo=PARIS)


def test_bpost_erases_3_years_after_the_last_order_in_brussels() -> None:
    """bpost (seed 001): "Les données personnelles fournies par le client [...] sont
    effacées après 3 ans, à compter de la dernière commande." """
    ordered = datetime(2026, 1, 6, 8, 30, tzinfo=UTC)
    subject = facts(
        value("service", "customer", datetime(2025, 5, 1, tzinfo=UTC), "bpost-mystamp"),
        anchors={"last_order/*": ordered},
    )
    due = due_of(subject, "customer", ordered)
    assert due is not None and due.isoformat() == "2029-01-07T00:00:00+01:00"
    assert due == datetime(2029, 1, 7, tzinfo=BRUSSELS)


@pytest.mark.parametrize(
    ("controller", "key_class", "quote"),
    [
        # Informatique 70 (seed 004): "Les données comptables et fiscales sont conservées
        # pendant une durée de 10 ans."
        ("informatique70", "accounting", "conservées pendant une durée de 10 ans"),
        # NEGOMARKETS (seed 003): invoices, "Durée légale" of 10 years
        ("negomarkets", "invoices", "10"),
    ],
)
def test_ten_year_invoices_are_kept_to_the_same_date_ten_years_on(
    controller: str, key_class: str, quote: str
) -> None:
    """An invoice of 26 January 2025 is kept, and survives erasure requests, through
    26 January 2035: 10 x 365 days would have let it go on the 24th, while the law still
    requires keeping it."""
    invoiced = datetime(2025, 1, 26, 14, 20, tzinfo=UTC)
    subject = facts(value(key_class, key_class, invoiced, controller))
    (entry,) = retention_schedule(subject, CATALOGS, invoiced)
    assert quote in entry.rule.quote and entry.rule.duration == "P10Y"
    assert entry.due == datetime(2035, 1, 27, tzinfo=PARIS)
    last_minute = datetime(2035, 1, 26, 23, 59, tzinfo=PARIS)
    assert due_by([entry], last_minute) == []
    (ground,) = obligation_grounds(subject, CATALOGS, last_minute, {key_class}, controller)
    assert ground.ground == "legal_obligation" and ground.expires == entry.due
    assert ground.as_json()["expires"] == "2035-01-27T00:00:00+01:00"
    midnight = datetime(2035, 1, 27, tzinfo=PARIS)
    assert obligation_grounds(subject, CATALOGS, midnight, {key_class}, controller) == []


def test_la_poste_mediator_referrals_are_kept_10_years_to_the_date() -> None:
    """La Poste (seed 000): "Pour la saisine du médiateur : conservation pendant 10 ans"."""
    referred = datetime(2025, 1, 26, 14, 20, tzinfo=UTC)
    subject = facts(value("mediator-referral", "mediator-referral", referred, "laposte-digiposte"))
    (entry,) = retention_schedule(subject, CATALOGS, referred)
    assert "10 ans" in entry.rule.quote
    assert entry.due == datetime(2035, 1, 27, tzinfo=PARIS)
