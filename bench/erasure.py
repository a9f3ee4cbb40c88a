"""Erasure and verify-erasure: does their cost follow the subject, or the log?

Only if the erasure service is there (``ledger.service.erasure`` and
``ledger.erasure.verify`` import); otherwise the row says "not measured: erasure not
available".

At each of two log sizes the same subject history is appended through the real
append path (natural identifier, real AES-GCM sealing: 8 events, 4 of them with
personal values), then what ``pdl erase <id> --reason request`` and ``pdl verify-erasure
<sub id>`` do is run in-process through the service layer, each with ledger adapters of
its own as a command opens them, and timed whole (less the interpreter's start, which
does not grow with the log). The projections of both datasets are caught up beforehand
(groupless), so both sizes start equally current. The part of both
commands that reads the log, the scan for the subject's records, is also timed alone
(in-process): it separates what grows with the log from fixed costs such as joining
consumer groups.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from bench.common import (
    Context,
    Dataset,
    Result,
    median,
    not_measured,
    opened,
    profiled,
    shares,
    timed,
    top,
)
from bench.common import topics as with_topics
from bench.data import CONTROLLER, T0, subject_id
from consumers.runner import Progress, ProjectionConsumer
from ledger.contract.events import SubjectEvent

TARGET = 1.5
BENCHMARKS = ("erase", "verify-erasure")
#: ``pdl erase`` less the time in ProjectionConsumer.catch_up (consumer-group joins and
#: polls): what is left when no other process shares the groups.
NO_GROUPS = "erase minus group catch-ups"
#: The part of both that reads the log: every event topic scanned for the subject's key.
SCAN = "subject-record scan"
#: The same commands for a subject as old as the log: one of the bulk subjects, whose 8
#: events span the whole log (its first record is among the log's first). Erasure reads
#: the subject's partitions from its first position, so this is the worst case.
OLD_ERASE = "erase, subject as old as the log"
OLD_VERIFY = "verify-erasure, subject as old as the log"
ROWS = ("erase", NO_GROUPS, "verify-erasure", OLD_ERASE, OLD_VERIFY)
Times = dict[str, float]

PARTS = {
    "catch up projections and erasure register (consumer groups)": (
        "consumers/runner.py",
        "catch_up",
    ),
    "subject_records (scan of every event topic)": ("ledger/erasure/records.py", "subject_records"),
    "read_register (scan of the erasure topic)": ("ledger/erasure/chain.py", "read_register"),
    "Backends.catalogs (scan of the policy topic)": ("ledger/service/backends.py", "catalogs"),
    "Intake.append (ErasureRequested, DataErased)": ("ledger/service/intake.py", "append"),
    "key store shred": ("ledger/keys/sqlite_store.py", "shred"),
    "try every sealed field against the keys": ("ledger/erasure/verify.py", "_check_field"),
}


def unavailable() -> str | None:
    """Why erasure cannot be measured, or None when it can."""
    for module in ("ledger.service.erasure", "ledger.erasure.verify"):
        try:
            importlib.import_module(module)
        except ImportError as exc:  # imported late: a broken build is "not available"
            return f"{module} does not import: {exc}"
    return None


def _history(natural: str) -> list[dict[str, Any]]:
    """One subject's 8 events, dicts as a producer submits them."""

    def at(days: int) -> str:
        return (T0 + timedelta(days=days)).isoformat()

    base = {"subject": natural, "controller": CONTROLLER}
    value = [
        {"field": "email", "category": "contact", "value": natural},
        {"field": "first_name", "category": "identity", "value": "Camille"},
    ]
    collected = {
        "type": "DataCollected",
        "source": "newsletter-signup-form",
        "purposes": ["newsletter"],
        "values": value,
    }
    consent = {
        "type": "ConsentGiven",
        "purpose": "newsletter",
        "channel": "web-form",
        "notice_version": "politique-2023-01",
    }
    processed = {
        "type": "DataProcessed",
        "purpose": "newsletter",
        "claimed_basis": "consent",
        "categories": ["contact"],
        "system": "crm-campaigns",
    }
    shapes: list[dict[str, Any]] = [
        collected,
        consent,
        processed,
        collected,
        processed,
        collected,
        processed,
        collected,
    ]
    return [{**base, **shape, "occurred_at": at(i)} for i, shape in enumerate(shapes)]


def erase(ctx: Context, dataset: Dataset, natural: str) -> None:
    """What ``pdl erase NATURAL --reason request`` does: request, carry out, certify."""
    from ledger.service.erasure import request_erasure, run_processor
    from ledger.service.queries import resolve_subject

    with with_topics(dataset.prefix), opened(ctx, dataset.data_dir) as ledger:
        request = request_erasure(ledger, resolve_subject(ledger, natural), "request")
        done = [o for o in run_processor(ledger) if o.request.event_id == request.event_id]
    if not done or done[0].certificate is None:
        raise RuntimeError(f"erasure {request.event_id} not carried out: {done}")


def verify(ctx: Context, dataset: Dataset, subject: str) -> None:
    """What ``pdl verify-erasure SUBJECT`` does: every sealed field against the keys."""
    from ledger.erasure.verify import verify_erasure

    with with_topics(dataset.prefix), opened(ctx, dataset.data_dir) as ledger:
        result = verify_erasure(ledger.log, ledger.registry, ledger.topics, ledger.keys, subject)
    if not result.ok:
        raise RuntimeError(f"verify-erasure failed: {result.summary()[-1500:]}")


def subjects(ctx: Context, dataset: Dataset, count: int) -> list[tuple[str, str]]:
    """Append ``count`` subjects' histories (one batch); their (natural id, subject id)."""
    naturals = [f"erase.{ctx.run_id}.{dataset.label}.{i}@example.fr" for i in range(count)]
    with with_topics(dataset.prefix), opened(ctx, dataset.data_dir) as ledger:
        intake = ledger.intake()
        events = [intake.prepare(d) for natural in naturals for d in _history(natural)]
        intake.append(events)
    ids = [e.subject_id for e in events[:: len(events) // count] if isinstance(e, SubjectEvent)]
    return list(zip(naturals, ids, strict=True))


@contextmanager
def _clocked(spent: list[float]) -> Iterator[None]:
    """Adds the seconds spent in ``ProjectionConsumer.catch_up`` (joining the consumer
    groups pdl-projections and pdl-erasure, then polling) to ``spent``."""
    original = ProjectionConsumer.catch_up

    def catch_up(
        self: ProjectionConsumer,
        stall_timeout_s: float = 60.0,
        stop: threading.Event | None = None,
    ) -> Progress:
        began = time.perf_counter()
        try:
            return original(self, stall_timeout_s, stop)
        finally:
            spent.append(time.perf_counter() - began)

    ProjectionConsumer.catch_up = catch_up  # type: ignore[method-assign]
    try:
        yield
    finally:
        ProjectionConsumer.catch_up = original  # type: ignore[method-assign]


def erase_and_verify(ctx: Context, dataset: Dataset, natural: str, subject: str) -> Times:
    """Seconds of ``pdl erase`` (and of it minus its consumer-group catch-ups), of ``pdl
    verify-erasure``, and of the subject-record scan both run, timed alone in-process."""
    from ledger.erasure.records import subject_records  # late: erasure may be absent

    spent: list[float] = []
    with _clocked(spent):
        _, erase_s = timed(lambda: erase(ctx, dataset, natural))
    _, verify_s = timed(lambda: verify(ctx, dataset, subject))
    with with_topics(dataset.prefix), opened(ctx, dataset.data_dir) as ledger:
        log, registry, names = ledger.log, ledger.registry, ledger.topics
        found, scan_s = timed(lambda: subject_records(log, registry, names, [subject]))
    assert len(found[subject]) >= len(_history("x")), "the scan missed the subject's records"
    return {
        "erase": erase_s,
        NO_GROUPS: erase_s - sum(spent),
        "verify-erasure": verify_s,
        SCAN: scan_s,
    }


def erase_old_subject(ctx: Context, dataset: Dataset, index: int) -> Times:
    """Seconds of ``pdl erase`` and ``pdl verify-erasure`` for bulk subject ``index``,
    whose records span the log from its first round to its last."""
    subject = subject_id(index, dataset.salt)
    _, erase_s = timed(lambda: erase(ctx, dataset, subject))
    _, verify_s = timed(lambda: verify(ctx, dataset, subject))
    return {OLD_ERASE: erase_s, OLD_VERIFY: verify_s}


def _profile(ctx: Context, dataset: Dataset, natural: str, subject: str) -> dict[str, Any]:
    """Where erase and verify-erasure spend their time (an extra subject; full mode)."""
    found: dict[str, Any] = {"profile_events": dataset.events}
    _, stats = profiled(lambda: erase(ctx, dataset, natural))
    found["erase_profile_shares"] = _shares(stats)
    _, stats = profiled(lambda: verify(ctx, dataset, subject))
    found["verify-erasure_profile_shares"] = _shares(stats)
    found["verify_profile_top5"] = top(stats, 5)
    return found


def _shares(stats: Any) -> dict[str, float]:
    return {k: round(v, 3) for k, v in shares(stats, PARTS).items() if v > 0}


def run(ctx: Context, small: Dataset, large: Dataset) -> list[Result]:
    name = f"{large.events:,} / {small.events:,} events"
    why = unavailable()
    if why is not None:
        print(f"  erasure: not measured: erasure not available ({why})", flush=True)
        return [
            not_measured(
                f"{command}: {name}", f"< {TARGET} (follows the subject)", "erasure not available"
            )
            for command in BENCHMARKS
        ]
    rounds = 1 if ctx.quick else ctx.rounds
    extra = 0 if ctx.quick else 1  # a subject to profile, in full mode
    pending = {d.label: subjects(ctx, d, rounds + extra) for d in (small, large)}
    for dataset in (small, large):  # both equally current before the clock (groupless)
        with with_topics(dataset.prefix), opened(ctx, dataset.data_dir) as ledger:
            ledger.catch_up()
    times: dict[str, dict[str, list[float]]] = {
        d.label: {c: [] for c in (*ROWS, SCAN)} for d in (small, large)
    }
    for r in range(rounds):  # interleaved: small then large, large then small, ...
        for dataset in (small, large) if r % 2 == 0 else (large, small):
            got = erase_and_verify(ctx, dataset, *pending[dataset.label][r])
            got.update(erase_old_subject(ctx, dataset, r))
            for command, seconds in got.items():
                times[dataset.label][command].append(seconds)
            print(
                f"  erasure at {dataset.events:,} events: "
                + ", ".join(f"{c} {s:.2f} s" for c, s in got.items()),
                flush=True,
            )
    profile = _profile(ctx, large, *pending[large.label][rounds]) if extra else {}
    growth = large.events / small.events
    rows = []
    for command in ROWS:
        lo, hi = median(times[small.label][command]), median(times[large.label][command])
        details: dict[str, Any] = {
            "seconds_by_size": {d.events: times[d.label][command] for d in (small, large)},
            "scan_seconds_by_size": {d.events: times[d.label][SCAN] for d in (small, large)},
            "subject_events": len(_history("x")),
            "rounds": rounds,
        }
        if command == "erase":
            details.update(profile)
        rows.append(
            Result(
                f"{command}: {name}",
                f"{hi:.2f} s at {large.events:,}",
                f"{lo:.2f} s at {small.events:,}",
                hi / lo,
                f"< {TARGET} over {growth:.0f}x log",
                hi / lo < TARGET,
                details,
            )
        )
    return rows


def explain(results: list[Result]) -> list[str]:
    d = results[0].details
    lines = []
    for command in BENCHMARKS:
        key = f"{command}_profile_shares"
        if key in d:
            lines.append(f"{command} at {d['profile_events']:,} events (cProfile, cumulative):")
            lines += [f"    {share:6.1%}  {label}" for label, share in d[key].items()]
    if "verify_profile_top5" in d:
        lines += ["  verify-erasure, top 5 by own time:"]
        lines += [f"    {line}" for line in d["verify_profile_top5"]]
    return lines
