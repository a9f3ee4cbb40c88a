"""Legal holds are individual: each has an id, a release names it, and each hold keeps
its scope until it is released or its ``until`` passes. Releasing an unknown or already
released hold, or placing one that has already lapsed, is refused with the fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ledger.contract.events import EVENT_TYPES
from ledger.errors import Conflict, InvalidRequest, NotFound
from ledger.service.holds import holds_of, place_hold, release_hold
from ledger.service.retention import carry_out
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, fixed_clock, informatique70_customer, pdl

PLACED = datetime(2024, 3, 20, tzinfo=UTC)
#: the call recording (collected 4 March 2024, 14:30 UTC) is due 60 days later
DUE = datetime(2024, 5, 3, 14, 30, tzinfo=UTC)
RECORDINGS = {"kind": "purpose", "purpose": "call-recording"}


def retention_actions(report: list[dict[str, object]]) -> dict[object, object]:
    return {e["scope"]: e["action"] for e in report}


def test_two_holds_on_one_scope_each_keep_it_until_each_is_released(
    make_ledger: LedgerFactory,
) -> None:
    ledger = fixed_clock(make_ledger(), PLACED)
    customer = informatique70_customer(ledger)
    case_a = place_hold(ledger, customer.subject_id, RECORDINGS, "case A")
    case_b = place_hold(ledger, customer.subject_id, RECORDINGS, "case B")
    assert case_a.hold_id != case_b.hold_id

    release_hold(ledger, customer.subject_id, case_a.hold_id, "case A closed")
    report = carry_out(fixed_clock(ledger, DUE), DUE)
    assert retention_actions(report)["purpose:call-recording"] == "held"
    (held,) = report[0]["held"]  # case B's hold, and only it
    # named by its id; the free text ("case B") is a sealed note, never on a report
    assert case_b.hold_id in held["reason"] and "case B" not in held["reason"]
    keys = {k.retention_class for k in ledger.keys.keys_of(customer.subject_id)}
    assert "call-recording" in keys

    release_hold(ledger, customer.subject_id, case_b.hold_id, "case B closed")
    later = datetime(2024, 5, 4, tzinfo=UTC)
    report = carry_out(fixed_clock(ledger, later), later)
    assert retention_actions(report)["purpose:call-recording"] == "erased"
    keys = {k.retention_class for k in ledger.keys.keys_of(customer.subject_id)}
    assert "call-recording" not in keys
    assert [h["status"] for h in holds_of(ledger, customer.subject_id)] == [
        "released",
        "released",
    ]


def test_a_hold_lapses_at_its_until(make_ledger: LedgerFactory) -> None:
    ledger = fixed_clock(make_ledger(), PLACED)
    customer = informatique70_customer(ledger)
    place_hold(ledger, customer.subject_id, RECORDINGS, "case A", until=DUE)
    assert retention_actions(carry_out(fixed_clock(ledger, DUE), DUE)) == {
        "purpose:call-recording": "erased"
    }


def test_releasing_an_unknown_or_released_hold_and_a_lapsed_until_are_refused(
    make_ledger: LedgerFactory,
) -> None:
    ledger = fixed_clock(make_ledger(), PLACED)
    customer = informatique70_customer(ledger)
    case_a = place_hold(ledger, customer.subject_id, RECORDINGS, "case A")
    with pytest.raises(NotFound) as unknown:
        release_hold(ledger, customer.subject_id, "hold_never_placed", "closed")
    assert unknown.value.fix and case_a.hold_id in unknown.value.fix  # what can be released
    release_hold(ledger, customer.subject_id, case_a.hold_id, "closed")
    with pytest.raises(Conflict) as again:
        release_hold(ledger, customer.subject_id, case_a.hold_id, "closed")
    assert "already released" in str(again.value) and again.value.fix
    with pytest.raises(InvalidRequest) as lapsed:
        place_hold(ledger, customer.subject_id, RECORDINGS, "case C", until=PLACED)
    assert lapsed.value.field == "until" and lapsed.value.fix


def test_the_command_line_prints_the_id_and_refuses_an_unknown_one(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    ledger.close()
    scope = ["--scope", "purpose:call-recording"]
    placed = [
        pdl("hold", "place", customer.email, *scope, "--reason", case, log_url=log_url)
        for case in ("case A", "case B")
    ]
    assert all(p.returncode == 0 for p in placed), [p.stderr for p in placed]
    case_a, case_b = (p.stdout.strip() for p in placed)
    released = pdl(
        "hold", "release", customer.email, "--hold", case_a, "--reason", "A closed", log_url=log_url
    )
    assert released.returncode == 0, released.stderr
    again = pdl(
        "hold", "release", customer.email, "--hold", case_a, "--reason", "A closed", log_url=log_url
    )
    assert again.returncode != 0 and "already released" in again.stderr
    assert "fix:" in again.stderr and case_b in again.stderr
    listed = pdl("hold", "list", customer.email, "--json", log_url=log_url)
    assert listed.returncode == 0, listed.stderr
    statuses = {h["hold_id"]: h["status"] for h in json.loads(listed.stdout)}
    assert statuses == {case_a: "released", case_b: "in force"}
    past = pdl(
        "hold",
        "place",
        customer.email,
        *scope,
        "--reason",
        "late",
        "--until",
        "2020-01-01T00:00:00Z",
        log_url=log_url,
    )
    assert past.returncode != 0 and "until" in past.stderr and "fix:" in past.stderr


def test_a_release_written_before_holds_had_ids_released_every_hold_on_its_scope(
    make_ledger: LedgerFactory,
) -> None:
    ledger = fixed_clock(make_ledger(), PLACED)
    customer = informatique70_customer(ledger)
    old = {
        "subject_id": customer.subject_id,
        "controller": CONTROLLER,
        "scope": RECORDINGS,
    }
    # as a 0.1 writer appended them: the intake now refuses a release without a hold_id,
    # so the records go through the append path without the policy check
    legacy = [
        EVENT_TYPES["LegalHoldReleased"].model_validate(
            {**old, "occurred_at": "2024-03-19T00:00:00Z", "reason": "closed"}
        ),
        EVENT_TYPES["LegalHoldPlaced"].model_validate(
            {
                **old,
                "occurred_at": "2024-03-18T00:00:00Z",
                "reason": "before ids",
                "article": "Art. 17(3)(e)",
            }
        ),
    ]
    ledger.intake().append(legacy)  # the release first: the fold's answer has no order
    place_hold(ledger, customer.subject_id, RECORDINGS, "placed after the release")
    statuses = sorted(h["status"] for h in holds_of(ledger, customer.subject_id))
    assert statuses == ["in force", "released"]
