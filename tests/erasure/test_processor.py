"""The erasure processor as a service: it carries out what producers submit while it
runs, and a pass killed after shredding still certifies the keys it destroyed."""

from __future__ import annotations

import json
import threading
import time

from ledger.service.erasure import erasure_processor
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, informatique70_customer, request_erasure


def test_a_running_processor_carries_out_requests_producers_submit(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    processor = erasure_processor(make_ledger())  # its own adapters, in its own thread
    stop = threading.Event()
    carried: list[int] = []
    thread = threading.Thread(target=lambda: carried.append(processor.keep_carrying_out(stop, 0.2)))
    thread.start()
    try:
        submit_lines(
            ledger.intake(),
            [
                json.dumps(
                    {
                        "type": "ErasureRequested",
                        "subject": customer.email,
                        "controller": CONTROLLER,
                        "occurred_at": "2024-05-01T00:00:00Z",
                        "reason": "objection",
                        "scope": {"kind": "purpose", "purpose": "call-recording"},
                    }
                )
            ],
        )
        ledger.runner().catch_up()  # what the running projection consumer does meanwhile
        deadline = time.monotonic() + 120
        while "call-recording" in {
            k.retention_class for k in ledger.keys.keys_of(customer.subject_id)
        }:
            assert time.monotonic() < deadline, "the running processor did not erase in 120 s"
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=120)
    assert carried == [1]


def test_a_pass_killed_after_shredding_still_certifies_the_keys(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    subject = customer.subject_id
    intake = ledger.intake()
    request = intake.prepare(
        {
            "type": "ErasureRequested",
            "subject_id": subject,
            "controller": CONTROLLER,
            "occurred_at": "2024-05-01T00:00:00Z",
            "reason": "request",
            "scope": {"kind": "purpose", "purpose": "call-recording"},
        }
    )
    intake.append([request])
    # what a pass does before it is killed: write its intent, shred; no DataErased yet
    (key,) = [k for k in ledger.keys.keys_of(subject) if k.retention_class == "call-recording"]
    intent = {
        "request_event_id": request.event_id,
        "keys": [[key.key_id, key.retention_class, key.fingerprint]],
    }
    ledger.layout.erasure_intent.write_text(json.dumps(intent))
    ledger.keys.shred(subject, {"call-recording"})

    (outcome,) = erasure_processor(ledger).process_pending()
    assert outcome.certificate is not None
    assert outcome.certificate["erased"]["keys_destroyed"] == [
        {"key_id": key.key_id, "retention_class": "call-recording", "fingerprint": key.fingerprint}
    ]
    assert len(outcome.certificate["erased"]["positions"]) == 1
    assert not (ledger.settings.data_dir / "erasure-intent.json").exists()
    assert request_erasure(ledger, subject, {"kind": "purpose", "purpose": "newsletter"})
