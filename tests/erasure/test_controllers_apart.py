"""Controllers are tenants, on both backends: the same person known to Informatique 70 and
to La Poste is two subjects, one per controller. An erasure for one leaves the other's
data readable and its certificate lists only its own keys; each controller's
``call-recording`` class keeps its own clock (60 days, 3 months); and when retention
erases a subject's last class at a controller, the person is no longer found there and
the certificate says the identity mapping was destroyed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ledger.erasure.chain import read_register
from ledger.service.backends import Backends
from ledger.service.retention import carry_out
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import fixed_clock, pdl
from tests.scenario import canary

I70, LAPOSTE = "informatique70", "laposte-digiposte"
RECORDED_AT = "2024-03-04T14:30:00Z"


class Person:
    """One person, known to both controllers, with a canary in every value."""

    def __init__(self) -> None:
        self.email = canary("email") + "@example.fr"
        self.values: dict[str, dict[str, str]] = {I70: {}, LAPOSTE: {}}

    def collected(
        self, controller: str, purpose: str, when: str, **categories: str
    ) -> dict[str, Any]:
        values = []
        for name, category in categories.items():
            value = self.values[controller][name] = canary(f"{controller}-{name}")
            values.append({"field": name, "category": category, "value": value})
        return {
            "type": "DataCollected",
            "subject": self.email,
            "controller": controller,
            "occurred_at": when,
            "source": f"{purpose}-system",
            "purposes": [purpose],
            "values": values,
        }


def known_to_both(ledger: Backends, *, i70_marketing: bool = True) -> Person:
    """Informatique 70: a call recording (and newsletter data); La Poste: a call recording
    and marketing data. The same e-mail, the same instant for both recordings."""
    person = Person()
    events = [
        person.collected(I70, "call-recording", RECORDED_AT, call_recording="voice_recording"),
        person.collected(LAPOSTE, "call-recording", RECORDED_AT, call_recording="voice_recording"),
        person.collected(LAPOSTE, "marketing", "2024-03-01T09:00:00Z", email="contact"),
    ]
    if i70_marketing:
        events.append(person.collected(I70, "newsletter", "2024-03-01T09:12:00Z", email="contact"))
    submit_lines(ledger.intake(), [json.dumps(e) for e in events])
    return person


def subject_at(ledger: Backends, person: Person, controller: str) -> str:
    found = ledger.keys.subject_for(person.email, controller)
    assert found is not None
    return found


def state(person: Person, controller: str | None, log_url: str | None) -> dict[str, Any]:
    chosen = ["--controller", controller] if controller else []
    shown = pdl("state", person.email, *chosen, "--json", log_url=log_url)
    assert shown.returncode == 0, shown.stderr
    view: dict[str, Any] = json.loads(shown.stdout)
    return view


def shown_values(view: dict[str, Any]) -> dict[str, str]:
    return {v["field"]: v["value"] for v in view["values"]}


def test_one_person_is_one_subject_per_controller(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    person = known_to_both(ledger)
    at_i70, at_laposte = subject_at(ledger, person, I70), subject_at(ledger, person, LAPOSTE)
    assert at_i70 != at_laposte
    assert ledger.keys.subjects_known_as(person.email) == {I70: at_i70, LAPOSTE: at_laposte}
    assert {k.controller for k in ledger.keys.keys_of(at_i70)} == {I70}
    assert {k.controller for k in ledger.keys.keys_of(at_laposte)} == {LAPOSTE}
    ledger.close()

    # without --controller the ledger does not join the two records: it names both
    ambiguous = pdl("state", person.email, log_url=log_url)
    assert ambiguous.returncode != 0
    assert f"known to controllers {I70}, {LAPOSTE}" in ambiguous.stderr
    assert "--controller" in ambiguous.stderr and person.email not in ambiguous.stderr
    view = state(person, LAPOSTE, log_url)
    assert view["subject_id"] == at_laposte
    assert shown_values(view) == person.values[LAPOSTE]
    assert {v["controller"] for v in view["values"]} == {LAPOSTE}


def test_an_erasure_for_one_controller_leaves_the_other_readable(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    person = known_to_both(ledger)
    at_i70, at_laposte = subject_at(ledger, person, I70), subject_at(ledger, person, LAPOSTE)
    laposte_keys = {k.key_id for k in ledger.keys.keys_of(at_laposte)}
    i70_keys = {k.key_id: k for k in ledger.keys.keys_of(at_i70)}
    ledger.close()

    erased = pdl(
        "erase",
        person.email,
        "--controller",
        LAPOSTE,
        "--reason",
        "request",
        "--json",
        log_url=log_url,
    )
    assert erased.returncode == 0, erased.stderr
    certificate = json.loads(erased.stdout)
    assert (certificate["controller"], certificate["subject_id"]) == (LAPOSTE, at_laposte)
    destroyed = {k["key_id"] for k in certificate["erased"]["keys_destroyed"]}
    assert destroyed == laposte_keys  # exactly La Poste's keys, none of Informatique 70's
    assert "call-recording" in certificate["erased"]["purposes"]
    assert certificate["erased"]["identity_mapping_destroyed"] is True
    assert certificate["erased"]["subject_fenced"] is True

    after = make_ledger()
    assert {k.key_id: k for k in after.keys.keys_of(at_i70)} == i70_keys
    assert not after.keys.is_erased_subject(at_i70) and after.keys.is_erased_subject(at_laposte)
    assert after.keys.subjects_known_as(person.email) == {I70: at_i70}
    after.close()
    # Informatique 70's record is whole and readable, and now the only one found
    assert shown_values(state(person, None, log_url)) == person.values[I70]
    gone = pdl("state", person.email, "--controller", LAPOSTE, log_url=log_url)
    assert gone.returncode != 0 and "no subject is known" in gone.stderr
    # an event for La Poste by Informatique 70's subject id is refused, naming the field
    refused = pdl(
        "emit",
        "-",
        stdin=json.dumps(
            {
                "type": "RetentionAnchorRecorded",
                "subject_id": at_i70,
                "controller": LAPOSTE,
                "occurred_at": "2024-03-05T10:00:00Z",
                "anchor": "last_contact",
                "purpose": "marketing",
            }
        ),
        log_url=log_url,
    )
    assert refused.returncode != 0
    assert f"controller: subject_id {at_i70} belongs to controller {I70}" in refused.stderr


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def certificates(ledger: Backends) -> list[dict[str, Any]]:
    """The register's certificates in chain order (partitions interleave on Kafka)."""
    found = [s.document() for s in read_register(ledger.log, ledger.registry, ledger.topics)]
    return sorted((c for c in found if c is not None), key=lambda c: int(c["sequence"]))


def erased_at(ledger: Backends, when: str) -> list[tuple[str, str, str]]:
    now = at(when)
    report = carry_out(fixed_clock(ledger, now), now)
    return [(e["subject_id"], e["scope"], e["action"]) for e in report]


def test_each_controller_keeps_its_own_retention_clock(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    person = known_to_both(ledger, i70_marketing=False)
    at_i70, at_laposte = subject_at(ledger, person, I70), subject_at(ledger, person, LAPOSTE)

    # Informatique 70: 60 days from 4 March 14:30 UTC; La Poste: 3 months, through 4 June
    assert erased_at(ledger, "2024-05-03T14:29:59Z") == []
    assert erased_at(ledger, "2024-05-03T14:30:00Z") == [
        (at_i70, "purpose:call-recording", "erased")
    ]
    assert ledger.keys.keys_of(at_i70) == []
    assert {k.retention_class for k in ledger.keys.keys_of(at_laposte)} == {
        "call-recording",
        "marketing",
    }
    # the recording was Informatique 70's last class: its mapping went with it
    (certificate,) = certificates(ledger)
    assert (certificate["controller"], certificate["subject_id"]) == (I70, at_i70)
    assert certificate["erased"]["identity_mapping_destroyed"] is True
    assert certificate["erased"]["subject_fenced"] is False
    assert any("mapping there was destroyed too" in n for n in certificate["notes"])
    assert ledger.keys.subjects_known_as(person.email) == {LAPOSTE: at_laposte}
    ledger.close()

    gone = pdl("state", person.email, "--controller", I70, log_url=log_url)
    assert gone.returncode != 0 and "no subject is known" in gone.stderr
    view = state(person, None, log_url)  # only La Poste knows the person now
    assert view["subject_id"] == at_laposte
    assert shown_values(view) == person.values[LAPOSTE]  # its recording is still readable

    ledger = make_ledger()
    assert erased_at(ledger, "2024-06-04T21:59:59Z") == []  # through 4 June in Paris
    assert erased_at(ledger, "2024-06-04T22:00:00Z") == [
        (at_laposte, "purpose:call-recording", "erased")
    ]
    assert {k.retention_class for k in ledger.keys.keys_of(at_laposte)} == {"marketing"}
    latest = certificates(ledger)
    assert latest[-1]["controller"] == LAPOSTE
    assert latest[-1]["erased"]["identity_mapping_destroyed"] is False  # marketing remains
    assert ledger.keys.subject_for(person.email, LAPOSTE) == at_laposte
