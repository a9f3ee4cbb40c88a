"""The packaged policy catalogs: each validates, quotes its seed notice verbatim, and states
the rules its notice states.

The seed notices live next to the repository (``../shared/seeds``). Without them the quotes
cannot be checked, so the tests fail rather than skip.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ledger.policy.calendar import add_period
from ledger.policy.catalog import (
    EEA,
    PACKAGED_DIR,
    Catalog,
    Catalogs,
    LegalBasis,
    Purpose,
    RetentionRule,
    load_catalog,
)
from ledger.policy.quotes import normalise, quotes

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
CATALOG_FILES = sorted(PACKAGED_DIR.glob("*.toml"))


def seed_dir(path: Path) -> Path:
    if not path.is_dir():
        pytest.fail(
            f"seed notices not found at {path}: the catalogs' quotes are checked against them; "
            "check out the shared directory next to the repository (../shared/seeds)"
        )
    return path


def seed_text(catalog: Catalog) -> str:
    path = seed_dir(SEEDS) / Path(catalog.source).name
    if not path.is_file():
        pytest.fail(f"catalog {catalog.controller.id} cites {catalog.source}, not found in {SEEDS}")
    return normalise(path.read_text(encoding="utf-8"))


def misquoted(catalog: Catalog) -> list[str]:
    seed = seed_text(catalog)
    found = quotes(catalog.model_dump())
    return [f"{where}: {q!r}" for where, q in found if normalise(q) not in seed]


def load(stem: str) -> Catalog:
    return load_catalog(PACKAGED_DIR / f"{stem}.toml")


def purpose(catalog: Catalog, purpose_id: str) -> Purpose:
    found = catalog.purpose(purpose_id)
    assert found is not None, f"{catalog.controller.id} has no purpose {purpose_id}"
    return found


def said(quote: str | None, *keywords: str) -> None:
    """The French words the rule rests on are in the quoted sentence."""
    assert quote is not None
    for keyword in keywords:
        assert normalise(keyword) in normalise(quote), f"{keyword!r} not in {quote!r}"


def kept(p: Purpose) -> tuple[str, str]:
    """How long, counted from what."""
    return p.retention.duration, p.retention.anchor


def rule_shape(rule: RetentionRule | None) -> tuple[Any, ...] | None:
    if rule is None:
        return None
    return (rule.duration, rule.anchor, rule.action, rule.ends_early_on, rule_shape(rule.then))


# --- every catalog -----------------------------------------------------------------------


def test_seed_directory_missing_fails_rather_than_skips(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="seed notices not found"):
        seed_dir(tmp_path / "nowhere")


def test_every_seed_notice_has_a_catalog() -> None:
    notices = {p.name for p in seed_dir(SEEDS).glob("0*.txt")}
    sources = {Path(load_catalog(p).source).name for p in CATALOG_FILES}
    assert len(notices) == 5
    assert notices <= sources, f"no catalog for {sorted(notices - sources)}"


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: p.stem)
def test_catalog_validates(path: Path) -> None:
    catalog = load_catalog(path)
    assert catalog.effective_from.tzinfo is not None
    assert catalog.purposes


def test_packaged_catalogs_load_together() -> None:
    catalogs = Catalogs.packaged()
    assert catalogs.controllers() == [
        "bpost-mystamp",
        "french-website",
        "informatique70",
        "laposte-digiposte",
        "negomarkets",
    ]


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: p.stem)
def test_quotes_are_verbatim_from_the_seed(path: Path) -> None:
    catalog = load_catalog(path)
    assert len(list(quotes(catalog.model_dump()))) >= 10
    assert misquoted(catalog) == []


def test_quote_check_catches_an_altered_quote_and_ignores_layout() -> None:
    catalog = load("informatique70")
    calls = purpose(catalog, "call-recording")
    assert misquoted(catalog) == []
    text = calls.retention.quote
    reflowed = text.replace(" ", "\n  ").replace("'", "\u2019")
    for changed, expected in ((text.replace("60 jours", "90 jours"), 1), (reflowed, 0)):
        retention = calls.retention.model_copy(update={"quote": changed})
        purposes = [
            p.model_copy(update={"retention": retention}) if p.id == "call-recording" else p
            for p in catalog.purposes
        ]
        assert len(misquoted(catalog.model_copy(update={"purposes": purposes}))) == expected


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: p.stem)
def test_purposes_sharing_a_key_class_share_one_retention_rule(path: Path) -> None:
    # Data sealed under one key is shredded at once: its purposes must end together.
    catalog = load_catalog(path)
    rules: dict[str, set[Any]] = {}
    for p in catalog.purposes:
        rules.setdefault(p.key_class, set()).add(rule_shape(p.retention))
    assert {k: v for k, v in rules.items() if len(v) > 1} == {}


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: p.stem)
def test_transfers_outside_the_eea_name_a_safeguard(path: Path) -> None:
    for r in load_catalog(path).recipients:
        assert r.country in EEA or r.safeguard is not None, r.id


# --- Informatique 70 (seed 004) ---------------------------------------------------------


def test_informatique70_rules() -> None:
    c = load("informatique70")
    calls = purpose(c, "call-recording")
    assert (calls.basis, calls.retention.duration) == (LegalBasis.legitimate_interest, "P60D")
    at = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
    assert add_period(at, calls.retention.duration, c.controller.zone) == at + timedelta(days=60)
    said(calls.retention.quote, "60 jours")
    accounting = purpose(c, "accounting")
    assert accounting.basis is LegalBasis.legal_obligation
    assert kept(accounting) == ("P10Y", "transaction")
    said(accounting.retention.quote, "10 ans")
    debts = purpose(c, "unpaid-debts").retention
    # at most 3 years from the unpaid debt, sooner once settled: never kept forever
    assert (debts.duration, debts.anchor, debts.ends_early_on) == (
        "P3Y",
        "collection",
        "settlement",
    )
    said(debts.quote, "48 heures", "soldé", "3 ans à compter de la survenance")
    cctv = purpose(c, "cctv").retention
    assert cctv.duration == "P1M"
    said(cctv.quote, "un mois")


# --- La Poste DIGIPOSTE (seed 000) ------------------------------------------------------


def test_laposte_payments_and_connections() -> None:
    c = load("laposte-digiposte")
    subscription = purpose(c, "subscription-payment")
    assert subscription.basis is LegalBasis.contract
    assert kept(subscription) == ("P120D", "transaction")
    said(subscription.retention.quote, "120 jours après la transaction")
    connection = purpose(c, "third-party-connection")
    assert connection.basis is LegalBasis.consent
    assert kept(connection) == ("P0D", "termination")
    said(connection.retention.quote, "Suppression immédiate après résiliation")
    photos = purpose(c, "photo-location")
    assert photos.basis is LegalBasis.consent and "location" in photos.categories
    said(photos.quote, "Localisation des photos")
    bills = purpose(c, "bill-payment")
    assert {bills.basis, *bills.other_bases} == {LegalBasis.consent, LegalBasis.contract}
    said(bills.basis_quote, "Exécution du service (contrat) Consentement")


def test_laposte_calls_and_marketing() -> None:
    c = load("laposte-digiposte")
    calls = purpose(c, "call-recording")
    assert calls.basis is LegalBasis.legitimate_interest
    assert kept(calls) == ("P3M", "collection")
    said(calls.basis_quote, "Intérêt légitime")
    said(calls.retention.quote, "3 mois à compter de la date de l'enregistrement")
    consent = purpose(c, "marketing-consent")
    assert consent.basis is LegalBasis.consent
    r = consent.retention
    assert (r.duration, r.anchor, r.ends_early_on) == ("P3Y", "last_contact", "consent_withdrawn")
    said(r.quote, "3 ans à compter du dernier contact", "retrait du consentement")
    said(consent.basis_quote, "prospection par voie électronique (SMS, email)")
    assert purpose(c, "marketing").basis is LegalBasis.legitimate_interest
    contests = purpose(c, "contests").retention
    assert (contests.duration, contests.anchor) == ("P3M", "contest_end")
    said(contests.quote, "maximum 3 mois après la fin du jeu")


def test_laposte_customer_service_retention() -> None:
    c = load("laposte-digiposte")
    contract = purpose(c, "contract-management").retention
    assert (contract.duration, contract.anchor) == ("P5Y", "contract_end")
    said(contract.quote, "cinq (5) ans", "durée de la relation contractuelle")
    complaints = purpose(c, "complaints").retention
    assert (complaints.duration, complaints.anchor) == ("P13M", "request_received")
    said(complaints.quote, "13 mois à compter de la date de réception de la réclamation")
    after_sales = purpose(c, "after-sales").retention
    assert (after_sales.action, after_sales.anchor, after_sales.duration) == (
        "anonymise",
        "request_closed",
        "P0D",
    )
    assert after_sales.then is not None and after_sales.then.anchor == "request_closed"
    assert (after_sales.then.duration, after_sales.then.action) == ("P13M", "erase")
    said(after_sales.quote, "anonymisation à la clôture de votre demande")
    said(after_sales.then.quote, "données anonymisées pendant 13 mois")
    surveys = purpose(c, "satisfaction-surveys").retention
    assert surveys.duration == "P6M"
    said(surveys.quote, "6 mois à compter de l'enquête")
    app = purpose(c, "mobile-app").retention
    assert (app.duration, app.anchor) == ("P12M", "app_connection")
    said(app.quote, "sans connexion pendant 12 mois")
    mediator = purpose(c, "mediator-referral")
    assert (mediator.basis, mediator.retention.duration) == (LegalBasis.consent, "P10Y")
    said(mediator.retention.quote, "10 ans")
    newsletter = purpose(c, "newsletter")
    assert newsletter.basis is LegalBasis.consent
    assert kept(newsletter) == ("P0D", "consent_withdrawn")
    said(newsletter.retention.quote, "désinscription de l'abonné")


def test_laposte_keeps_purposes_it_cannot_resolve() -> None:
    c = load("laposte-digiposte")
    unresolved = " ".join(e.quote for e in c.unresolved)
    said(unresolved, "comptabilité", "fraude", "impayés")
    for p in ("authentication", "document-storage"):
        assert "basis" in purpose(c, p).inferred  # the notice points to another page
        said(purpose(c, p).basis_quote, "Disponible sous")


# --- bpost MyStamp (seed 001) -----------------------------------------------------------


def test_bpost_erases_three_years_after_the_last_order() -> None:
    c = load("bpost-mystamp-2023-08-01")
    assert len(c.purposes) == 5
    for p in c.purposes:
        assert (p.retention.duration, p.retention.anchor, p.retention.action) == (
            "P3Y",
            "last_order",
            "erase",
        )
        said(p.retention.quote, "effacées après 3 ans, à compter de la dernière commande")
        assert p.key_class == "customer"
    service = purpose(c, "service")
    assert (service.basis, service.other_bases) == (
        LegalBasis.contract,
        [LegalBasis.legitimate_interest],
    )
    said(purpose(c, "customer-requests").basis_quote, "intérêt légitime")


def test_bpost_processors_in_india_have_a_safeguard() -> None:
    c = load("bpost-mystamp-2023-08-01")
    by_id = {r.id: r for r in c.recipients}
    assert by_id["aws"].country == "IE" and by_id["aws"].country in EEA
    said(by_id["aws"].quote, "amazon web services, serveurs en irlande")
    for name in ("infosys", "tcs"):
        r = by_id[name]
        assert (r.role, r.country, r.safeguard) == ("processor", "IN", "scc")
        assert r.country not in EEA and "safeguard" in r.inferred
        said(r.quote, name, "à partir de l'inde")
        said(r.safeguard_quote, "niveau de protection", "adéquat")
    assert all(set(p.recipients) == set(by_id) for p in c.purposes)


def test_bpost_declares_no_profiling_and_no_automated_decisions() -> None:
    c = load("bpost-mystamp-2023-08-01")
    declared = {d.kind: d.quote for d in c.declarations}
    said(declared["no_profiling"], "pour établir des profils")
    said(declared["no_automated_decisions"], "décision automatisée", "article 22")
    said(declared["identity_check"], "vérifier votre identité")
    optional = {cat.id for cat in c.categories if cat.optional}
    assert optional == {"birth_date", "phone"}
    said(next(cat.quote for cat in c.categories if cat.id == "birth_date"), "(facultatif)")


def test_bpost_processes_depicted_people_for_the_customer() -> None:
    c = load("bpost-mystamp-2023-08-01")
    assert c.controller.role == "controller" and c.controller.country == "BE"
    stamps = purpose(c, "stamp-production")
    assert stamps.acting_as == "processor" and stamps.on_behalf_of
    said(stamps.quote, "en sa qualité de sous-traitant")
    assert [p.id for p in c.purposes if p.acting_as == "processor"] == ["stamp-production"]


def test_bpost_version_in_force_around_the_revision() -> None:
    c = load("bpost-mystamp-2023-08-01")
    assert (c.version, c.effective_from) == ("2023-08-01", datetime(2023, 7, 31, 22, tzinfo=UTC))
    packaged = Catalogs.packaged()
    before, after = datetime(2023, 7, 31, 21, 59, tzinfo=UTC), datetime(2023, 8, 1, tzinfo=UTC)
    assert packaged.in_force("bpost-mystamp", before) is None  # the earlier text is not known
    current = packaged.in_force("bpost-mystamp", after)
    assert current is not None and current.version == "2023-08-01"
    # Were the earlier text published, each side of the revision would find its own version.
    earlier = c.model_copy(
        update={"version": "2018", "effective_from": datetime(2018, 5, 25, tzinfo=UTC)}
    )
    both = Catalogs([c, earlier])
    found = [both.in_force("bpost-mystamp", t) for t in (before, after)]
    assert [v.version if v else None for v in found] == ["2018", "2023-08-01"]
    earliest = both.earliest("bpost-mystamp")
    assert earliest is not None and earliest.version == "2018"


# --- French website (seed 002) ----------------------------------------------------------


def test_french_website_keeps_billing_and_fraud_data_for_their_legal_period() -> None:
    c = load("french-website")
    billing = purpose(c, "billing")
    assert (billing.basis, billing.legal_hold) == (LegalBasis.legal_obligation, True)
    assert kept(billing) == ("P10Y", "transaction")
    assert "duration" in billing.retention.inferred  # the notice gives no figure
    said(billing.retention.quote, "éléments liés à la facturation", "temps réglementaire")
    fraud = purpose(c, "fraud-prevention")
    assert fraud.legal_hold and fraud.retention.duration == "P5Y"
    said(fraud.retention.quote, "lutte contre la fraude")
    held = {p.id for p in c.purposes if p.legal_hold}
    assert held == {"billing", "fraud-prevention"}


def test_french_website_erases_the_rest_on_request() -> None:
    c = load("french-website")
    for p in c.purposes:
        if not p.legal_hold:
            assert kept(p) == ("P0D", "user_deletion"), p.id
    said(purpose(c, "customer-services").retention.quote, "via notre formulaire de contact")
    said(purpose(c, "site-usage").retention.quote, "Nos services effaceront vos données")


def test_french_website_stores_in_france_and_does_no_marketing() -> None:
    c = load("french-website")
    locations = [d for d in c.declarations if d.kind == "storage_location"]
    assert locations and all(d.country == "FR" for d in locations)
    said(locations[0].quote, "serveurs situés en France")
    (no_marketing,) = [d for d in c.declarations if d.kind == "no_marketing"]
    said(no_marketing.quote, "pas ces informations à des fins de prospection commerciale")
    assert not any("market" in p.id or "prospect" in p.id for p in c.purposes)
    assert all(r.country == "FR" for r in c.recipients)


# --- NEGOMARKETS (seed 003) -------------------------------------------------------------


def test_negomarkets_invoices_ten_years_on_legal_obligation() -> None:
    c = load("negomarkets")
    invoices = purpose(c, "invoices")
    assert (invoices.basis, invoices.legal_hold) == (LegalBasis.legal_obligation, True)
    assert kept(invoices) == ("P10Y", "transaction")
    said(invoices.retention.quote, "Durée légale", "factures pendant 10 ans")


def test_negomarkets_cnil_durations() -> None:
    c = load("negomarkets")
    audience = purpose(c, "site-audience")
    assert (audience.basis, audience.retention.duration) == (LegalBasis.consent, "P13M")
    said(audience.retention.quote, "13 mois")
    prospects = purpose(c, "information-requests").retention
    assert (prospects.duration, prospects.anchor) == ("P3Y", "last_contact")
    said(prospects.quote, "3 ans a compter de la collecte ou du dernier contact pour les prospects")
    customers = purpose(c, "customer-relationship")
    assert customers.basis is LegalBasis.contract
    assert kept(customers) == ("P5Y", "contract_end")
    said(customers.retention.quote, "le temps de la relation commerciale et 5 ans")
    recruitment = purpose(c, "recruitment").retention
    assert (recruitment.duration, recruitment.anchor) == ("P2Y", "last_contact")
    said(recruitment.quote, "2 ans apres le dernier contact avec le candidat")


def test_negomarkets_newsletter_and_suppression_list() -> None:
    c = load("negomarkets")
    newsletter = purpose(c, "newsletter")
    assert newsletter.basis is LegalBasis.consent
    assert kept(newsletter) == ("P0D", "consent_withdrawn")
    said(newsletter.retention.quote, "ne se désinscrit pas")
    suppression = purpose(c, "suppression-list")
    assert (suppression.basis, suppression.legal_hold) == (LegalBasis.legal_obligation, True)
    assert suppression.key_class != newsletter.key_class  # survives the unsubscribe
    said(suppression.quote, "liste de suppression")
    said(suppression.basis_quote, "Obligations légales")


def test_negomarkets_is_processor_for_its_distributors() -> None:
    c = load("negomarkets")
    assert c.controller.role == "controller"
    sales = purpose(c, "distributor-sales")
    assert sales.acting_as == "processor"
    assert sales.on_behalf_of is not None and "distributors" in sales.on_behalf_of
    said(sales.quote, "NEGOMARKETS agit en qualité de « sous-traitant »")
    said(sales.basis_quote, "pour le compte des distributeurs", "Exécution du contrat")
    assert [p.id for p in c.purposes if p.acting_as == "processor"] == ["distributor-sales"]


# --- the model's optional fields ---------------------------------------------------------


def _purpose(**extra: Any) -> dict[str, Any]:
    retention = {"duration": "P1Y", "anchor": "collection", "quote": "q"}
    return {
        "id": "p",
        "title": "t",
        "basis": "contract",
        "categories": ["identity"],
        "retention": retention,
        "quote": "q",
        **extra,
    }


def test_optional_fields_are_checked() -> None:
    Purpose.model_validate(_purpose(acting_as="processor", on_behalf_of="its distributors"))
    with pytest.raises(ValidationError, match="on_behalf_of goes with acting_as = processor"):
        Purpose.model_validate(_purpose(acting_as="processor"))
    with pytest.raises(ValidationError, match="other_bases repeats basis contract"):
        Purpose.model_validate(_purpose(other_bases=["contract"]))
    with pytest.raises(ValidationError, match="inferred names unknown fields: colour"):
        Purpose.model_validate(_purpose(inferred=["colour"]))
    with pytest.raises(ValidationError, match="anchor"):
        RetentionRule.model_validate({"duration": "P1Y", "anchor": "whenever", "quote": "q"})


def test_informatique70_consent_rules_end_on_withdrawal() -> None:
    c = load("informatique70")
    for pid in ("marketing", "newsletter"):
        rule = purpose(c, pid).retention
        assert rule.ends_early_on == "consent_withdrawn", pid
        said(rule.quote, "jusqu'au retrait du consentement")


def test_informatique70_covers_all_sixteen_activities() -> None:
    """Each of the notice's sixteen activities is a purpose or listed as unresolved."""
    c = load("informatique70")
    ids = {p.id for p in c.purposes}
    assert {"contact-form", "loyalty"} <= ids
    unresolved = " ".join(u.quote for u in c.unresolved)
    for heading in ("4.6 Gestion des avis", "4.9 Gestion de la fraude", "4.10", "4.11"):
        assert heading in unresolved
    assert "zendesk" in {r.id for r in c.recipients}
    assert c.complaint_authority is not None and "CNIL" in c.complaint_authority.name
    assert c.contact is not None and c.security is not None and c.data_subjects


def test_informatique70_bases_differing_from_the_notice_are_inferred() -> None:
    c = load("informatique70")
    for pid in ("free-callback", "cctv", "call-recording"):
        assert "basis" in purpose(c, pid).inferred, pid


def seed_of(path: Path) -> Path:
    return seed_dir(SEEDS) / Path(load_catalog(path).source).name


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: p.stem)
def test_pdl_catalog_validate_with_source(path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.cli.main",
            "catalog",
            "validate",
            str(path),
            "--source",
            str(seed_of(path)),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout


def test_pdl_catalog_validate_with_source_names_a_misquote(tmp_path: Path) -> None:
    path = PACKAGED_DIR / "informatique70.toml"
    altered = tmp_path / "informatique70.toml"
    altered.write_text(
        path.read_text(encoding="utf-8").replace("60 jours", "90 jours"), encoding="utf-8"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger.cli.main",
            "catalog",
            "validate",
            str(altered),
            "--source",
            str(seed_of(path)),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0
    assert "purposes[" in done.stderr and "retention.quote" in done.stderr
    assert "not found verbatim" in done.stderr and "fix" in done.stderr
