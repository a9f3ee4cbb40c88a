"""Verdicts reached once per kind of event (``consumers.admission``) are the verdicts
``check`` reaches for each event: events that differ in anything ``check`` reads (a
purpose, a category, a recipient, the event type, the catalog version in force) are
judged apart, and events that differ only in subject, id or time share a verdict."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from consumers.admission import Admission, _refusal
from ledger.contract import events as ev
from ledger.contract.secret import Secret
from ledger.policy.catalog import Catalogs
from projections.base import Recorded
from tests.conftest import LedgerFactory

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _common(n: int) -> dict[str, Any]:
    return {
        "event_id": f"00000000-0000-4000-8000-{n:012x}",
        "subject_id": f"sub_{n % 3:032x}",
        "controller": "informatique70",
        "occurred_at": T0 + timedelta(days=n),
    }


def _collected(purposes: list[str], category: str) -> Callable[[int], ev.LedgerEvent]:
    value = ev.CollectedValue(field="f", category=category, value=Secret(sealed=b"\x01"))
    return lambda n: ev.DataCollected(
        **_common(n), purposes=purposes, source="form", values=[value]
    )


def _given(purpose: str, categories: list[str], recipients: list[str]) -> Callable[[int], Any]:
    return lambda n: ev.ConsentGiven(
        **_common(n),
        purpose=purpose,
        channel="web-form",
        notice_version="v1",
        categories=categories,
        recipients=recipients,
    )


KINDS: list[Callable[[int], ev.LedgerEvent]] = [
    _collected(["newsletter"], "contact"),
    _collected(["newsletter"], "health"),
    _collected(["loyalty-club"], "contact"),
    _given("newsletter", [], []),
    _given("newsletter", ["contact"], []),
    _given("newsletter", ["health"], []),
    _given("newsletter", [], ["no-such-recipient"]),
    _given("accounting", [], []),
    lambda n: ev.ConsentWithdrawn(**_common(n), purpose="newsletter", channel="unsubscribe"),
    lambda n: ev.ConsentWithdrawn(**_common(n), purpose="accounting", channel="unsubscribe"),
    lambda n: ev.DataProcessed(
        **_common(n),
        purpose="newsletter",
        claimed_basis="consent",
        categories=["contact"],
        system="crm",
    ),
    lambda n: ev.DataProcessed(
        **_common(n),
        purpose="newsletter",
        claimed_basis="consent",
        categories=["health"],
        system="crm",
    ),
]


def test_a_verdict_reached_once_is_each_events_own(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    admission = Admission(ledger.log, ledger.registry, ledger.topics)
    events = [kind(n) for n in range(4) for kind in KINDS]  # every kind, then again
    verdicts = [
        admission.refusal(Recorded(e, "t", 0, i, e.occurred_at)) for i, e in enumerate(events)
    ]
    expected = [_refusal(e, Catalogs.packaged(), e.occurred_at) for e in events]
    assert verdicts == expected
    # kinds equal but for one field are told apart: some admitted, others refused for
    # differing reasons (checked by mutation: leaving recipients or categories out of
    # ``_judged`` fails this test)
    assert None in verdicts
    assert len(set(verdicts) - {None}) >= 5
