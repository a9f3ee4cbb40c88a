"""The demo scenario (``pdl demo``, and the report tests' fixture): a customer of
Informatique 70 with a consent, a withdrawal recorded late, campaigns, a share, a call
recording and invoices, and an erasure carried out; a bpost MyStamp customer whose data
is accessed from India; a NEGOMARKETS distributor's client. The events are
``demo_scenario.jsonl``, beside this module: batches separated by a blank line."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from importlib import resources

from ledger.service.backends import Backends
from ledger.service.erasure import run_processor
from ledger.service.submission import submit_lines

#: The scenario's main subject, as the controller knows her.
SUBJECT = "camille.martin@example.fr"
#: The scenario's present: the erasure is carried out then, and the reports are as of it.
SCENARIO_NOW = datetime(2024, 4, 30, 12, 0, tzinfo=UTC)
#: The purpose the demo's purpose-level reports are about.
DEMO_PURPOSE = "newsletter"


def play_scenario(ledger: Backends) -> int:
    """Append the scenario, batch by batch (each recorded after the one before: the
    withdrawal is recorded after the April campaign), then carry out the erasure request;
    the number of events appended. Give ``ledger`` the scenario's clock first
    (``ledger.service.erasure.at_instant(ledger, SCENARIO_NOW)``)."""
    text = resources.files("ledger.service").joinpath("demo_scenario.jsonl").read_text("utf-8")
    appended = 0
    for batch in text.split("\n\n"):
        appended += len(submit_lines(ledger.intake(), batch.splitlines()))
        time.sleep(0.002)  # record times are in milliseconds: keep the batches apart
    run_processor(ledger)
    return appended
