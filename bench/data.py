"""Events for the benchmarks: producer dicts for the append path, and bulk models.

Bulk events are built directly as models (no JSON parsing, no policy check) with their
personal values in plaintext, and appended through ``Intake.append``, which records
each subject at its controller in the dataset's key store, creates its data keys and
seals every value with AES-GCM under them, as for any event. The consumers check that
a personal field is sealed under a key of the event's subject at its controller, so
the bulk log must be sealed for real. Each batch of BATCH events runs inside
``KeyStore.batch()``: its new subjects and keys are committed together, once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import Context, Dataset, opened, topics
from ledger.contract import events as ev
from ledger.contract.secret import Secret
from ledger.keys.store import KeyStore
from ledger.service.intake import Intake

T0 = datetime(2024, 1, 1, tzinfo=UTC)
CONTROLLER = "informatique70"
#: Events per subject in the bulk data; subjects = events / EVENTS_PER_SUBJECT.
EVENTS_PER_SUBJECT = 8
BATCH = 5_000


def ingest_dicts(count: int, run: str) -> list[dict[str, Any]]:
    """``count`` producer events (tests/scenario.py shapes): per subject, a DataCollected
    with two personal values, then a ConsentGiven; natural identifiers, as submitted."""
    out: list[dict[str, Any]] = []
    for n in range(count):
        person = n // 2
        subject = f"bench.{run}.{person:07d}@example.fr"
        when = (T0 + timedelta(seconds=person)).isoformat()
        if n % 2 == 0:
            out.append(
                {
                    "type": "DataCollected",
                    "subject": subject,
                    "controller": CONTROLLER,
                    "occurred_at": when,
                    "source": "newsletter-signup-form",
                    "purposes": ["newsletter"],
                    "values": [
                        {"field": "first_name", "category": "identity", "value": f"Prénom{person}"},
                        {"field": "email", "category": "contact", "value": subject},
                    ],
                }
            )
        else:
            out.append(
                {
                    "type": "ConsentGiven",
                    "subject": subject,
                    "controller": CONTROLLER,
                    "occurred_at": when,
                    "purpose": "newsletter",
                    "channel": "web-form",
                    "notice_version": "politique-2023-01",
                }
            )
    return out


def subject_id(index: int, salt: int = 0) -> str:
    return f"sub_{salt:08x}{index:024x}"


def _personal(text: str) -> Secret:
    """A plaintext personal value: ``Intake.append`` seals it under the subject's key."""
    return Secret(plaintext=text)


def bulk_event(n: int, subjects: int, salt: int = 0) -> ev.LedgerEvent:
    """Event ``n`` of a log with ``subjects`` subjects, EVENTS_PER_SUBJECT each, in rounds
    (round k holds every subject's k-th event), so a subject's events span the log."""
    index, step = n % subjects, n // subjects
    common: dict[str, Any] = {
        "subject_id": subject_id(index, salt),
        "controller": CONTROLLER,
        "occurred_at": T0 + timedelta(days=7 * step, seconds=index),
    }
    match step % EVENTS_PER_SUBJECT:
        case 0:
            return ev.DataCollected(
                **common,
                purposes=["newsletter"],
                source="newsletter-signup-form",
                values=[
                    ev.CollectedValue(
                        field="first_name", category="identity", value=_personal(f"Prénom{n:05d}")
                    ),
                    ev.CollectedValue(
                        field="email", category="contact", value=_personal(f"p{n:010d}@example.fr")
                    ),
                ],
            )
        case 1 | 6:
            return ev.ConsentGiven(
                **common,
                purpose="newsletter",
                channel="web-form",
                notice_version="politique-2023-01",
            )
        case 3:
            return ev.DataCollected(
                **common,
                purposes=["accounting"],
                source="workshop-till",
                values=[
                    ev.CollectedValue(
                        field="invoice",
                        category="transaction",
                        value=_personal(f"FA-{n:012d} 149,90 EUR atelier réparation"),
                    )
                ],
            )
        case 5:
            return ev.ConsentWithdrawn(**common, purpose="newsletter", channel="unsubscribe")
        case _:
            return ev.DataProcessed(
                **common,
                purpose="newsletter",
                claimed_basis="consent",
                categories=["contact"],
                system="crm-campaigns",
            )


def subjects_for(events: int) -> int:
    return max(1, events // EVENTS_PER_SUBJECT)


def bulk_batches(start: int, stop: int, subjects: int, salt: int = 0) -> Iterator[list[Any]]:
    for first in range(start, stop, BATCH):
        yield [bulk_event(n, subjects, salt) for n in range(first, min(first + BATCH, stop))]


def append_bulk(
    intake: Intake, keys: KeyStore, events: int, salt: int = 0, start: int = 0
) -> float:
    """Append events ``start..events`` of a log of ``events``; returns seconds taken."""
    began = time.perf_counter()
    subjects = subjects_for(events)
    for batch in bulk_batches(start, events, subjects, salt):
        with keys.batch():  # one key-store commit per batch of events
            intake.append(batch)
        # Each batch's keys are new and never used again while generating; the store
        # scans its whole in-memory key cache on every miss (SQLiteKeyStore._unwrap), so
        # keeping 250,000 keys cached would make a million-event generation quadratic.
        keys.forget()
    return time.perf_counter() - began


def make_dataset(ctx: Context, label: str, events: int) -> Dataset:
    """A fresh log of ``events`` bulk events on its own topics and data directory."""
    salt = len(ctx.prefixes) + 1
    dataset = Dataset(label, events, ctx.new_prefix(label), ctx.data_dir(label), salt)
    with topics(dataset.prefix), opened(ctx, dataset.data_dir) as ledger:
        dataset.append_seconds = append_bulk(ledger.intake(), ledger.keys, events, salt)
    print(
        f"  dataset {label}: {events:,} events appended in {dataset.append_seconds:.1f} s "
        f"({events / dataset.append_seconds:,.0f} ev/s, bulk models sealed for real, "
        f"batches of {BATCH:,})",
        flush=True,
    )
    return dataset
