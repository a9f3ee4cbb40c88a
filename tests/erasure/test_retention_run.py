"""`pdl retention run --now T` erases exactly what the seed's rules make due at T, on
both backends: Informatique 70's call-back requests (48 hours), call recordings (60
days from collection), marketing (3 years from the last contact, which moves) and
invoices (10 years, a legal obligation until then)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ledger.service.backends import Backends
from ledger.service.holds import place_hold, release_hold
from ledger.service.retention import carry_out
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, Customer, collected, fixed_clock, pdl
from tests.scenario import canary


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def customers(ledger: Backends) -> tuple[Customer, Customer]:
    a, b = Customer(canary("a") + "@example.fr"), Customer(canary("b") + "@example.fr")
    events = [
        collected(a, "newsletter", "marketing", "2024-03-01T09:12:00Z", email="contact"),
        collected(
            a,
            "call-recording",
            "call-recording",
            "2024-03-04T14:30:00Z",
            call_recording="voice_recording",
        ),
        collected(a, "accounting", "accounting", "2024-03-05T10:00:00Z", invoice="transaction"),
        collected(a, "free-callback", "free-callback", "2024-03-10T10:00:00Z", phone="contact"),
        collected(b, "marketing", "marketing", "2024-03-01T09:12:00Z", email="contact"),
    ]
    submit_lines(ledger.intake(), [json.dumps(e) for e in events])
    for c in (a, b):
        c.subject_id = ledger.keys.subject_for(c.email, CONTROLLER) or ""
    return a, b


def classes(ledger: Backends, customer: Customer) -> set[str]:
    return {k.retention_class for k in ledger.keys.keys_of(customer.subject_id)}


def run_at(ledger: Backends, when: str) -> list[tuple[str, str, str]]:
    now = at(when)
    report = carry_out(fixed_clock(ledger, now), now)
    return [(e["subject_id"], e["scope"], e["action"]) for e in report]


def plan_at(ledger: Backends, when: str) -> list[tuple[str, str, str]]:
    report = carry_out(ledger, at(when), dry_run=True)
    return [(e["subject_id"], e["scope"], e["action"]) for e in report]


def test_retention_run_erases_exactly_what_is_due(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    a, b = customers(ledger)
    everything = {"marketing", "call-recording", "accounting", "free-callback"}
    assert classes(ledger, a) == everything and classes(ledger, b) == {"marketing"}

    assert run_at(ledger, "2024-03-12T09:59:59Z") == []  # 48 h less one second
    assert run_at(ledger, "2024-03-12T10:00:00Z") == [
        (a.subject_id, "purpose:free-callback", "erased")
    ]
    assert classes(ledger, a) == everything - {"free-callback"}

    due = pdl(
        "retention",
        "due",
        "--now",
        "2024-03-12T10:00:00Z",
        "--before",
        "2024-06-01T00:00:00Z",
        "--json",
        log_url=log_url,
    )
    assert due.returncode == 0, due.stderr
    (coming,) = json.loads(due.stdout)
    assert (coming["subject_id"], coming["scope"], coming["due"]) == (
        a.subject_id,
        "purpose:call-recording",
        "2024-05-03T16:30:00+02:00",  # 60 days after 14:30 UTC, in Paris time
    )
    assert coming["rule"] == "P60D from collection, then erase" and "60 jours" in coming["quote"]

    assert run_at(ledger, "2024-05-03T14:29:59Z") == []
    ledger.close()
    cli = pdl("retention", "run", "--now", "2024-05-03T14:30:00Z", "--json", log_url=log_url)
    assert cli.returncode == 0, cli.stderr
    (done,) = json.loads(cli.stdout)
    assert (done["scope"], done["action"], done["keys_destroyed"]) == (
        "purpose:call-recording",
        "erased",
        1,
    )
    ledger = make_ledger()
    assert classes(ledger, a) == {"marketing", "accounting"}

    # b's last contact moves its marketing date by 15 months; a's does not move
    submit_lines(
        ledger.intake(),
        [
            json.dumps(
                {
                    "type": "RetentionAnchorRecorded",
                    "subject": b.email,
                    "controller": CONTROLLER,
                    "occurred_at": "2025-06-01T00:00:00Z",
                    "anchor": "last_contact",
                    "purpose": "marketing",
                }
            )
        ],
    )
    # 3 years from 1 March 2024 run through 1 March 2027 in Paris: due at 23:00 UTC.
    # Instants ahead of the log's clock are listed by a dry run (`pdl retention run
    # --dry-run --now T`): a request appended with a valid time that far ahead of its
    # record time is refused by the consumers, as the intake refuses it
    assert plan_at(ledger, "2027-03-01T22:59:59Z") == []
    newsletter = (a.subject_id, "purpose:newsletter", "would be erased")
    assert plan_at(ledger, "2027-03-01T23:00:00Z") == [newsletter]
    assert plan_at(ledger, "2028-06-01T21:59:59Z") == [newsletter]  # through 1 June 2028
    marketing = (b.subject_id, "purpose:marketing", "would be erased")
    assert set(plan_at(ledger, "2028-06-01T22:00:00Z")) == {newsletter, marketing}  # +02:00
    # the invoices outlive everything, until their own 10 years are up
    assert set(plan_at(ledger, "2034-03-05T22:59:59Z")) == {newsletter, marketing}
    assert set(plan_at(ledger, "2034-03-05T23:00:00Z")) == {  # 5 March 2034 in Paris
        newsletter,
        marketing,
        (a.subject_id, "purpose:accounting", "would be erased"),
    }
    assert classes(ledger, a) == {"marketing", "accounting"}  # a dry run destroys nothing


def test_a_legal_hold_stops_retention_until_released(make_ledger: LedgerFactory) -> None:
    ledger = fixed_clock(make_ledger(), at("2024-04-01T00:00:00Z"))
    a, _ = customers(ledger)
    hold = place_hold(
        ledger,
        a.subject_id,
        {"kind": "category", "category": "voice_recording"},
        "complaint 2024-77",
        until=at("2024-09-01T00:00:00Z"),
    )
    assert ("purpose:call-recording", "held") in [
        (scope, action) for _, scope, action in run_at(ledger, "2024-05-03T14:30:00Z")
    ]
    assert "call-recording" in classes(ledger, a)
    release_hold(
        fixed_clock(ledger, at("2024-05-03T20:00:00Z")), a.subject_id, hold.hold_id, "closed"
    )
    assert (a.subject_id, "purpose:call-recording", "erased") in run_at(
        ledger, "2024-05-04T00:00:00Z"
    )
    assert "call-recording" not in classes(ledger, a)
