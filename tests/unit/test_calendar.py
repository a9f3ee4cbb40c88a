"""Calendar time, to the day, from the seed notices' own retention rules.

Months and years are calendar periods ending with the expiry of the same date (Regulation
(EEC, Euratom) No 1182/71, Art. 3(2)(c)) in the controller's time zone: ``add_period``
returns the first instant of the day after that date, so nothing is due while any part of
the promised date remains. Days and hours are elapsed time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from ledger.policy.calendar import add_period, parse_period, zone_named
from ledger.policy.catalog import PACKAGED_DIR, Catalog, load_catalog

PARIS = zone_named("Europe/Paris")
BRUSSELS = zone_named("Europe/Brussels")
INSTANT = timedelta(microseconds=1)


def last_day_kept(due: datetime) -> date:
    """The promised date: the local day the due instant ends."""
    return (due - INSTANT).date()


def test_la_poste_complaints_13_months_from_receipt() -> None:
    """La Poste (seed 000): "Pour la gestion des réclamations : conservation pendant 13 mois
    à compter de la date de réception de la réclamation"."""
    received = datetime(2025, 1, 16, 10, 0, tzinfo=PARIS)
    due = add_period(received, "P13M", PARIS)
    assert last_day_kept(due) == date(2026, 2, 16)
    assert due == datetime(2026, 2, 17, 0, 0, tzinfo=PARIS)
    assert due.isoformat() == "2026-02-17T00:00:00+01:00"
    # 13 x 30 days would have erased on 10 February 2026: 6 days early
    assert (received + timedelta(days=13 * 30)).date() == date(2026, 2, 10)


def test_la_poste_mobile_app_12_months_without_connection() -> None:
    """La Poste (seed 000): "Pour l'application mobile : sans connexion pendant 12 mois :
    suppression des données à caractère personnelle"."""
    last_connection = datetime(2025, 2, 5, 18, 45, tzinfo=PARIS)
    due = add_period(last_connection, "P12M", PARIS)
    assert last_day_kept(due) == date(2026, 2, 5)
    assert due == datetime(2026, 2, 6, tzinfo=PARIS)
    assert (last_connection + timedelta(days=360)).date() == date(2026, 1, 31)  # the old count


def test_bpost_3_years_after_the_last_order() -> None:
    """bpost (seed 001): "Les données personnelles fournies par le client [...] sont
    effacées après 3 ans, à compter de la dernière commande." Read in Brussels."""
    ordered = datetime(2026, 1, 6, 9, 30, tzinfo=BRUSSELS)
    due = add_period(ordered, "P3Y", BRUSSELS)
    assert last_day_kept(due) == date(2029, 1, 6)
    assert due.isoformat() == "2029-01-07T00:00:00+01:00"
    assert (ordered + timedelta(days=3 * 365)).date() == date(2029, 1, 5)  # a day early


@pytest.mark.parametrize(
    "quote",
    [
        "Pour la saisine du médiateur : conservation pendant 10 ans",  # La Poste, seed 000
        # Informatique 70, seed 004:
        "Les données comptables et fiscales sont conservées pendant une durée de 10 ans.",
    ],
)
def test_10_years_of_legal_obligation_end_on_the_same_date(quote: str) -> None:
    """Invoices and mediator referrals are kept while the law requires it: through the
    whole of 26 January 2035, not 2 or 3 days less (10 x 365 days ends on the 24th)."""
    assert "10 ans" in quote
    invoiced = datetime(2025, 1, 26, 15, 20, tzinfo=PARIS)
    due = add_period(invoiced, "P10Y", PARIS)
    assert last_day_kept(due) == date(2035, 1, 26)
    assert due == datetime(2035, 1, 27, tzinfo=PARIS)
    assert (invoiced + timedelta(days=3650)).date() == date(2035, 1, 24)


def test_120_days_after_the_transaction_are_elapsed_days() -> None:
    """La Poste (seed 000): "Suppression au bout de 120 jours après la transaction"."""
    paid = datetime(2025, 1, 16, 10, 0, tzinfo=UTC)
    assert add_period(paid, "P120D", PARIS) == paid + timedelta(days=120)


def test_48_hours_after_settlement_are_elapsed_hours() -> None:
    """Informatique 70 (seed 004): "les données sont effacées du fichier recensant les
    personnes en situation d'impayés au plus tard, 48 heures à partir du moment où
    l'impayé a été effectivement soldé"."""
    settled = datetime(2025, 1, 16, 10, 0, tzinfo=PARIS)
    due = add_period(settled, "PT48H", PARIS)
    assert due == settled + timedelta(hours=48)
    assert due.isoformat() == "2025-01-18T10:00:00+01:00"


@pytest.mark.parametrize(
    ("recorded", "last_day"),
    [
        (date(2025, 1, 31), date(2025, 2, 28)),
        (date(2024, 1, 31), date(2024, 2, 29)),  # a leap year
        (date(2025, 3, 31), date(2025, 4, 30)),
        (date(2025, 1, 30), date(2025, 2, 28)),
        (date(2025, 2, 28), date(2025, 3, 28)),
    ],
)
def test_one_month_ends_on_the_last_day_of_a_shorter_month(recorded: date, last_day: date) -> None:
    """Informatique 70 (seed 004), CCTV: "Les images sont conservées un mois maximum."
    Art. 3(2)(c): if the date "does not occur in the last month, the period shall end with
    the expiry of the last hour of the last day of that month"."""
    at = datetime(recorded.year, recorded.month, recorded.day, 8, 0, tzinfo=PARIS)
    assert last_day_kept(add_period(at, "P1M", PARIS)) == last_day


def test_a_year_from_29_february_ends_on_28_february() -> None:
    at = datetime(2024, 2, 29, 12, 0, tzinfo=PARIS)
    assert last_day_kept(add_period(at, "P1Y", PARIS)) == date(2025, 2, 28)
    assert last_day_kept(add_period(at, "P4Y", PARIS)) == date(2028, 2, 29)


def test_the_date_is_read_in_the_controllers_zone() -> None:
    """23:30 UTC on 15 January is already 16 January in Paris: the complaint was received
    on the 16th there, and it is kept through 16 February."""
    received = datetime(2025, 1, 15, 23, 30, tzinfo=UTC)
    due = add_period(received, "P13M", PARIS)
    assert last_day_kept(due) == date(2026, 2, 16)
    assert due.utcoffset() == timedelta(hours=1)
    assert last_day_kept(add_period(received, "P13M", zone_named("UTC"))) == date(2026, 2, 15)


def test_nothing_is_due_while_the_promised_date_lasts() -> None:
    received = datetime(2025, 1, 16, 23, 59, tzinfo=PARIS)
    due = add_period(received, "P13M", PARIS)
    for hour in range(24):
        assert datetime(2026, 2, 16, hour, 59, 59, tzinfo=PARIS) < due
    assert due == datetime(2026, 2, 16, 23, 0, tzinfo=UTC)


def test_months_across_a_clock_change_end_at_local_midnight() -> None:
    """Paris moves to summer time on 30 March 2025: a month from 15 March ends at
    midnight local time (+02:00) on 15/16 April, 22:00 UTC."""
    due = add_period(datetime(2025, 3, 15, 12, 0, tzinfo=PARIS), "P1M", PARIS)
    assert due.isoformat() == "2025-04-16T00:00:00+02:00"
    assert due.astimezone(UTC) == datetime(2025, 4, 15, 22, 0, tzinfo=UTC)


def test_hours_and_days_across_a_clock_change_are_elapsed_time() -> None:
    """48 hours over the spring change show one hour later on the clock; over the autumn
    change one hour earlier: the elapsed time is what the notice counts."""
    spring = datetime(2025, 3, 29, 12, 0, tzinfo=PARIS)
    assert add_period(spring, "PT48H", PARIS).isoformat() == "2025-03-31T13:00:00+02:00"
    autumn = datetime(2025, 10, 25, 12, 0, tzinfo=PARIS)
    assert add_period(autumn, "PT48H", PARIS).isoformat() == "2025-10-27T11:00:00+01:00"
    # (subtracting in UTC: Python subtracts two times of one zone by their clocks)
    assert add_period(spring, "P60D", PARIS).astimezone(UTC) - spring == timedelta(days=60)
    assert add_period(spring, "P60D", PARIS).isoformat() == "2025-05-28T13:00:00+02:00"


def test_zero_is_at_once() -> None:
    at = datetime(2025, 1, 16, 10, 0, tzinfo=UTC)
    assert add_period(at, "P0D", PARIS) == at


@pytest.mark.parametrize(
    ("text", "years", "months", "elapsed"),
    [
        ("P13M", 0, 13, timedelta()),
        ("P1Y6M", 1, 6, timedelta()),
        ("P2W", 0, 0, timedelta(weeks=2)),
        ("PT48H", 0, 0, timedelta(hours=48)),
        ("PT90M", 0, 0, timedelta(minutes=90)),
        ("P1DT12H", 0, 0, timedelta(days=1, hours=12)),
    ],
)
def test_periods_parse(text: str, years: int, months: int, elapsed: timedelta) -> None:
    period = parse_period(text)
    assert (period.years, period.months, period.elapsed) == (years, months, elapsed)


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "P1.5Y", "3Y", "P-1M", "p3y", "P1Y2D"])
def test_malformed_or_mixed_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_period(text)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        add_period(datetime(2025, 1, 16), "P13M", PARIS)


def test_every_catalog_names_its_time_zone_as_inferred() -> None:
    zones = {
        (c := load_catalog(path)).controller.id: (c.controller.time_zone, c.controller.inferred)
        for path in sorted(PACKAGED_DIR.glob("*.toml"))
    }
    assert {k: zone for k, (zone, _) in zones.items()} == {
        "bpost-mystamp": "Europe/Brussels",
        "french-website": "Europe/Paris",
        "informatique70": "Europe/Paris",
        "laposte-digiposte": "Europe/Paris",
        "negomarkets": "Europe/Paris",
    }
    assert all("time_zone" in inferred for _, inferred in zones.values())


@pytest.mark.parametrize("zone", [None, "Europe", "Europe/Nowhere", "CET+1"])
def test_a_catalog_without_a_valid_time_zone_is_refused(zone: str | None) -> None:
    data = load_catalog(PACKAGED_DIR / "informatique70.toml").model_dump(mode="json")
    if zone is None:
        del data["controller"]["time_zone"]
    else:
        data["controller"]["time_zone"] = zone
    with pytest.raises(ValidationError, match="time_zone"):
        Catalog.model_validate(data)


def test_a_mixed_duration_in_a_catalog_is_refused(tmp_path: Path) -> None:
    text = (PACKAGED_DIR / "informatique70.toml").read_text("utf-8")
    broken = tmp_path / "mixed.toml"
    broken.write_text(text.replace('duration = "P13M"', 'duration = "P1Y1M1D"'), "utf-8")
    with pytest.raises(ValidationError, match="mixes calendar units"):
        load_catalog(broken)
