"""The policy's side door: a schema-valid record, sealed with the ledger's own keys so that
only the policy is wrong, appended straight to a topic (``EventLog.append``, around the
intake). The consumers judge it like the intake would: what the policy refuses is
dead-lettered with its reason, live and after ``pdl rebuild``, and never reaches a
projection; a conforming record appended the same way is applied."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.admission import POLICY_REFUSED
from ledger.contract.canonical import catalog_text
from ledger.contract.deadletter import DeadLetter
from ledger.log.base import OutgoingRecord
from ledger.policy.catalog import Catalog, Catalogs
from ledger.policy.publish import publication
from ledger.service.backends import Backends
from ledger.service.deadletters import dead_letters
from ledger.service.settings import Settings
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, Customer, informatique70_customer, pdl
from tests.trust.test_side_door import outside_producer_value


def recorded_fields(ledger: Backends, family: str, type_name: str, subject: str) -> dict[str, Any]:
    """The fields of the subject's first ``type_name`` record, as the ledger sealed them."""
    for record in ledger.log.scan([ledger.topics.of(family)]):
        if record.key == subject.encode():
            name, fields = ledger.registry.decode(record.value)
            if name == type_name:
                return dict(fields)
    raise AssertionError(f"no {type_name} of the subject")


def append_straight(ledger: Backends, family: str, type_name: str, fields: dict[str, Any]) -> None:
    value = outside_producer_value(type_name, {**fields, "event_id": str(uuid.uuid4())})
    topic = ledger.topics.of(family)
    ledger.log.append([OutgoingRecord(topic, fields["subject_id"].encode(), value)])


def consent(ledger: Backends, customer: Customer, purpose: str) -> None:
    given = recorded_fields(ledger, "consent", "ConsentGiven", customer.subject_id)
    append_straight(ledger, "consent", "ConsentGiven", {**given, "purpose": purpose})


def consents_shown(customer: Customer, log_url: str | None) -> set[str]:
    state = pdl("state", customer.email, "--json", log_url=log_url)
    assert state.returncode == 0, state.stderr
    return {c["purpose"] for c in json.loads(state.stdout)["consents"]}


def test_what_the_policy_refuses_is_dead_lettered_live_and_after_rebuild(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    ledger.runner().catch_up()
    consent(ledger, customer, "accounting")  # rests on a legal obligation
    consent(ledger, customer, "loyalty-club")  # no such purpose in the catalog
    anchor = recorded_fields(ledger, "retention", "RetentionAnchorRecorded", customer.subject_id)
    stranger = f"sub_{uuid.uuid4().hex}"
    append_straight(
        ledger,
        "retention",
        "RetentionAnchorRecorded",
        {**anchor, "controller": "no-such-controller", "subject_id": stranger},
    )
    consent(ledger, customer, "marketing")  # conforms: applied

    progress = ledger.runner().catch_up()
    assert (progress.dead_letters, progress.applied) == (3, 1)
    reasons = sorted(d.reason for d in dead_letters(ledger) if isinstance(d, DeadLetter))
    assert all(r.startswith(POLICY_REFUSED) for r in reasons), reasons
    assert any("'accounting' rests on legal_obligation, not consent" in r for r in reasons)
    assert any("purpose: unknown purpose in catalog informatique70" in r for r in reasons)
    assert any("controller: unknown controller" in r for r in reasons)
    assert not any(customer.email in r or stranger in r for r in reasons)
    ledger.close()

    listed = pdl("deadletters", log_url=log_url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count(POLICY_REFUSED) == 3
    assert "rests on legal_obligation" in listed.stdout
    assert consents_shown(customer, log_url) == {"newsletter", "marketing"}
    basis = pdl(
        "basis",
        customer.email,
        "accounting",
        "--at",
        "2024-03-06T00:00:00Z",
        "--json",
        log_url=log_url,
    )
    assert basis.returncode == 0, basis.stderr
    assert '"consent"' not in basis.stdout  # no consent is a basis for it
    assert '"legal_obligation"' in basis.stdout

    if log_url is None:  # `pdl rebuild` swaps an SQLite file in: the embedded setup
        live = pdl("state", customer.email, "--json")
        rebuilt = pdl("rebuild")
        assert rebuilt.returncode == 0, rebuilt.stderr
        again = pdl("state", customer.email, "--json")
        assert json.loads(again.stdout) == json.loads(live.stdout)  # the same verdicts
        assert consents_shown(customer, log_url) == {"newsletter", "marketing"}


class LogClock:
    """The embedded log's record time, set by the test."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> float:
        return self.at.timestamp()


def loyalty_catalog(ledger: Backends) -> Catalog:
    """informatique70's catalog with one more consent-based purpose, in force already."""
    current = Catalogs.packaged().in_force(CONTROLLER, datetime(2024, 3, 1, tzinfo=UTC))
    assert current is not None
    marketing = current.purpose("marketing")
    assert marketing is not None
    loyalty = marketing.model_copy(update={"id": "loyalty-club"})
    return current.model_copy(
        update={"version": current.version + "-loyalty", "purposes": [*current.purposes, loyalty]}
    )


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Backends]:
    """A ledger on the embedded log, by name: only there can a test set record times."""
    opened = Backends(Settings.from_environment(None, tmp_path / "data"))
    yield opened
    opened.close()


def test_a_record_is_judged_by_the_catalogs_known_at_its_record_time(
    embedded: Backends,
) -> None:
    ledger = embedded
    clock = LogClock()
    ledger.log_clock = clock
    customer = informatique70_customer(ledger)
    ledger.runner().catch_up()

    clock.at = datetime(2026, 1, 1, 12, tzinfo=UTC)
    consent(ledger, customer, "loyalty-club")  # recorded before the catalog declaring it
    clock.at = datetime(2026, 1, 1, 13, tzinfo=UTC)
    catalog = Catalog.model_validate_json(catalog_text(loyalty_catalog(ledger)))
    event = publication(catalog, clock.at)
    ledger.log.append(
        [
            OutgoingRecord(
                ledger.topics.policy,
                event.log_key.encode(),
                ledger.registry.encode(event.type_name(), event.model_dump(mode="python")),
            )
        ]
    )
    clock.at = datetime(2026, 1, 1, 14, tzinfo=UTC)
    consent(ledger, customer, "loyalty-club")  # recorded after: applied

    progress = ledger.runner().catch_up()
    assert (progress.dead_letters, progress.applied) == (1, 2)  # the publication, a consent
    (letter,) = [d for d in dead_letters(ledger) if isinstance(d, DeadLetter)]
    assert "unknown purpose" in letter.reason
    ledger.close()

    live = pdl("state", customer.email, "--json")
    assert live.returncode == 0 and "loyalty-club" in consents_shown(customer, None)
    rebuilt = pdl("rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    again = pdl("state", customer.email, "--json")
    assert json.loads(again.stdout) == json.loads(live.stdout)  # the same verdicts
