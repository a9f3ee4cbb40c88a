"""When an erasure was due, and how late it was carried out. Pure.

A certificate says when the keys were destroyed (the ledger's clock) and when that was
due, so that a late erasure shows as late instead of hiding behind a date:

- an erasure for **retention expiry** was due when the earliest of the classes it
  destroys fell due under its retention rule (``ledger.erasure.retention``);
- any other erasure answers a request, due by the answer deadline (Art. 12(3),
  ``ledger.policy.deadlines``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from ledger.contract.vocabulary import ErasureReason
from ledger.erasure.retention import SubjectFacts, retention_schedule
from ledger.policy.catalog import Catalogs
from ledger.policy.deadlines import answer_due, controller_zone


def erasure_due(
    reason: str,
    requested_at: datetime,
    controller: str,
    erased_classes: Collection[str],
    facts: SubjectFacts,
    catalogs: Catalogs,
    now: datetime,
) -> datetime | None:
    """When the erasure of ``erased_classes`` was due; None when nothing was."""
    if reason != ErasureReason.retention_expiry.value:
        return answer_due(requested_at, controller_zone(catalogs, controller, requested_at))
    dues = [
        entry.due
        for entry in retention_schedule(facts, catalogs, now)
        if entry.controller == controller
        and entry.retention_class in erased_classes
        and entry.due is not None
    ]
    return min(dues, default=None)


def late_by(due: datetime | None, done: datetime) -> timedelta | None:
    """How long after ``due`` it was ``done``; None when on time or never due."""
    if due is None or done <= due:
        return None
    return done - due


def iso_duration(span: timedelta) -> str:
    """``span`` as an ISO 8601 duration in elapsed days, hours, minutes and seconds."""
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = f"P{days}D" if days else "P"
    return text + (f"T{time}" if time else "" if days else "T0S")
