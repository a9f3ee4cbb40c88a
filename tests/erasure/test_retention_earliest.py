"""A key's data falls due from the first value sealed under it: a newer value of the same
field (a second call recording) must not postpone the first one's deadline."""

from __future__ import annotations

import json

from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, Customer, collected
from tests.erasure.test_retention_run import classes, run_at
from tests.scenario import canary


def test_two_recordings_fall_due_sixty_days_after_the_first(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    customer = Customer(canary("calls") + "@example.fr")
    events = [
        collected(
            customer,
            "call-recording",
            "call-recording",
            "2024-03-04T14:30:00Z",
            call_recording="voice_recording",
        ),
        collected(
            customer,
            "call-recording",
            "call-recording",
            "2024-04-03T14:30:00Z",
            call_recording="voice_recording",
        ),
    ]
    submit_lines(ledger.intake(), [json.dumps(e) for e in events])
    customer.subject_id = ledger.keys.subject_for(customer.email, CONTROLLER) or ""
    assert run_at(ledger, "2024-05-03T14:29:59Z") == []
    assert run_at(ledger, "2024-05-03T14:30:00Z") == [
        (customer.subject_id, "purpose:call-recording", "erased")
    ]  # 60 days after the first recording, not the second
    assert "call-recording" not in classes(ledger, customer)
