"""The demo scenario (``pdl demo``, and the report tests' fixture): a customer of
Informatique 70 with a consent, a withdrawal recorded late, campaigns, a share, a call
recording and invoices, and an erasure carried out; a bpost MyStamp customer whose data
is accessed from India; a NEGOMARKETS distributor's client. The events are
``demo_scenario.jsonl``, beside this module: batches separated by a blank line."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from importlib import resources

from ledger.errors import Refused
from ledger.service.backends import Backends
from ledger.service.erasure import run_processor
from ledger.service.queries import resolve_subject
from ledger.service.retention import schedule
from ledger.service.settings import Settings
from ledger.service.submission import submit_lines

#: The scenario's main subject, as the controller knows her.
SUBJECT = "camille.martin@example.fr"
#: The scenario's present: the erasure is carried out then, and the reports are as of it.
SCENARIO_NOW = datetime(2024, 4, 30, 12, 0, tzinfo=UTC)
#: The purpose the demo's purpose-level reports are about.
DEMO_PURPOSE = "newsletter"
#: Left in a data directory the demo filled: running the demo there again is allowed.
DEMO_MARKER = "demo-scenario.txt"


def claim_for_demo(settings: Settings) -> None:
    """Mark the data directory as the demo's; refuse one holding a ledger the demo did
    not make, so the scenario never mixes with real records."""
    root = settings.data_dir
    marker = root / DEMO_MARKER
    keys = settings.layout.keys
    if keys.exists() and keys.stat().st_size > 0 and not marker.exists():
        raise Refused(
            f"pdl demo: {root} already holds a ledger that the demo did not create",
            "give the demo a directory of its own: pdl --data-dir ./demo-data demo "
            "(then pdl --data-dir ./demo-data state ...)",
        )
    root.mkdir(parents=True, exist_ok=True)
    marker.write_text("written by `pdl demo`: a scenario, not real records\n", "utf-8")


def retention_story(ledger: Backends, now: datetime) -> list[str]:
    """What the retention rules say of the demo's main subject at ``now``: the demo
    itself never runs retention, so data past its period is still there."""
    subject_id = resolve_subject(ledger, SUBJECT)
    lines = []
    for item in schedule(ledger, now):
        due = item.due
        if due.subject_id != subject_id:
            continue
        when = due.due.date().isoformat() if due.due else "no date yet"
        if item.held:
            verdict = "kept: a legal hold applies"
        elif due.due is not None and due.due <= now:
            verdict = "past its period, still held: `pdl retention run` would act on it"
        else:
            verdict = "within its period"
        lines.append(f"  {due.scope.label()} ({due.retention_class}): due {when} — {verdict}")
    return lines


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
