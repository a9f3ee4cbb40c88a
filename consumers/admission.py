"""Whether the policy admits a recorded event: the intake's check, run again by consumers.

Anyone who can write the topics can append a schema-valid, well-sealed event the intake
would have refused (a consent for a purpose resting on a legal obligation, a purpose or
recipient the catalog does not declare, a controller with no catalog). So every consumer
judges every record with ``ledger.policy.check.check`` and dead-letters what it refuses.

The verdict must not depend on when or where it is reached: a live consumer and a later
``pdl rebuild`` judge a record alike. So a record is judged

- with the catalogs as known at its record time (the broker's LogAppendTime): the
  packaged ones, and those whose PolicyPublished record time is at or before it;
- with its own valid time as "now" for the rules that need one (a hold's ``until``),
  never the wall clock; a valid time more than ``MAX_CLOCK_SKEW`` ahead of its record
  time is refused, as the intake refuses one ahead of its clock. The rules
  ``_intake_only`` names are the intake's alone.

A live consumer re-reads the policy topic whenever a batch holds a record newer than the
catalogs it last read (and the topic has grown since), so it has every publication
recorded up to that record's time; a rebuild reads the whole topic before its first
judgement. docs/INTEGRATORS.md lists the reasons; docs/OPERATORS.md the race with a
publication recorded between ``pdl emit``'s check and its record.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from functools import cache

from consumers.decode import decode
from ledger.contract.events import (
    ConsentGiven,
    ConsentWithdrawn,
    DataCollected,
    DataErased,
    DataProcessed,
    DataRectified,
    LedgerEvent,
    LegalHoldReleased,
    PolicyPublished,
)
from ledger.contract.rejection import Rejection
from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry
from ledger.errors import Unavailable
from ledger.keys.store import KeyStore
from ledger.log.base import EventLog, LogRecord, TopicPartition
from ledger.policy.catalog import Catalogs, Publication
from ledger.policy.check import MAX_CLOCK_SKEW, check
from ledger.policy.publish import published_catalog
from projections.base import Recorded

#: How long a consumer waits for an open transaction on the policy topic to end: a
#: publication in it may carry a record time before records already in hand.
POLICY_TRANSACTION_WAIT_S = 30.0

#: Verdicts kept for reuse (``_judged``): a log names few purposes and categories.
KEPT_VERDICTS = 10_000

#: The start of every policy refusal a consumer dead-letters (``consumers.metrics``).
POLICY_REFUSED = "refused by the policy as known at the record time"


@cache
def _packaged() -> Catalogs:
    return Catalogs.packaged()


def publications(log: EventLog, topics: Topics, registry: SchemaRegistry) -> list[Publication]:
    """Every catalog version published on the policy topic that the consumers apply, by
    record time. A record they dead-letter (undecodable, a digest that does not match its
    catalog, ...) publishes nothing: the intake and the consumers agree on what is known."""
    found = []
    for record in log.scan([topics.policy]):
        recorded = decode(record, registry)
        if isinstance(recorded, str) or not isinstance(recorded.event, PolicyPublished):
            continue
        if check(recorded.event, _packaged(), recorded.recorded_at):
            continue
        found.append(Publication(published_catalog(recorded.event), recorded.recorded_at))
    return sorted(found, key=_recorded_at)


def _intake_only(event: LedgerEvent, rejection: Rejection) -> bool:
    """Whether ``rejection`` is one the intake makes and a consumer does not repeat."""
    if isinstance(event, DataErased):
        # The erasure processor's own output: its scope was judged on the
        # ErasureRequested it answers, and a catalog version published since may have
        # dropped a purpose or category it names; the erasure still happened. Its valid
        # time is the processor's clock: one ahead of the log's must not hide it either.
        return rejection.field.startswith("scope") or rejection.field == "occurred_at"
    # A release without a hold id was how every release was written before holds had
    # ids (projections.subject_state honours it): such records are on the log.
    return isinstance(event, LegalHoldReleased) and rejection.field == "hold_id"


def _refusal(event: LedgerEvent, known: Catalogs, now: datetime) -> str | None:
    rejections = check(event, known, now)
    rejections = [r for r in rejections if not _intake_only(event, r)]
    if not rejections:
        return None
    return f"{POLICY_REFUSED}: " + "; ".join(str(r) for r in rejections)


def _judged(event: LedgerEvent) -> Hashable | None:
    """All that ``check`` reads of the most frequent kinds of event, besides the catalog
    version in force at its valid time (which its controller and valid time choose), when
    it is judged at that valid time: events equal in these are judged alike, so their
    verdict is reached once. None for the other kinds, judged one by one. It follows
    ``ledger.policy.check``: a field check comes to read for one of these kinds belongs
    here too (tests/projections/test_admission_verdicts.py)."""
    # what _undeclared_processor reads: a field, so in __dict__ (a getattr that misses
    # costs a pydantic __getattr__ and an exception, more than the rest of this)
    processor = event.__dict__.get("processor")
    if isinstance(event, (DataCollected, DataRectified)):  # a tuple: a union is built per call
        categories = tuple(v.category for v in event.values)
        return type(event), processor, tuple(event.purposes), categories
    if isinstance(event, ConsentGiven):
        lists = tuple(event.categories), tuple(event.recipients)
        return type(event), processor, event.purpose, lists
    if isinstance(event, DataProcessed):
        return type(event), processor, event.purpose, tuple(event.categories)
    if isinstance(event, ConsentWithdrawn):
        return type(event), processor, event.purpose
    return None


def _recorded_at(publication: Publication) -> datetime:
    return publication.recorded_at or datetime.min.replace(tzinfo=UTC)


class Admission:
    """The policy check of one consumer, with the policy topic as read so far."""

    def __init__(self, log: EventLog, registry: SchemaRegistry, topics: Topics) -> None:
        self._log = log
        self._registry = registry
        self._topics = topics
        self._published: list[Publication] = []
        self._times: list[datetime] = []
        #: the policy topic's end offsets when it was last read; None: never read
        self._read_at: dict[TopicPartition, int] | None = None
        #: every publication recorded up to this record time (ms) has been read
        self._covers_ms = -1
        #: catalogs as known with the first n publications, by n
        self._as_known: dict[int, Catalogs] = {}
        #: each refusal (or None) by catalogs, catalog version in force and ``_judged``
        self._verdicts: dict[tuple[int, int, Hashable], str | None] = {}

    def judge(
        self, records: Sequence[LogRecord], keys: KeyStore | None = None
    ) -> list[tuple[LogRecord, Recorded | str]]:
        """Each record decoded (``consumers.decode``) and judged by the policy: the
        recorded event, or the reason (rule and fix, no personal value) it is refused."""
        self._read_up_to(max((r.timestamp_ms for r in records), default=-1))
        judged: list[tuple[LogRecord, Recorded | str]] = []
        for record in records:
            outcome = decode(record, self._registry, keys)
            if isinstance(outcome, Recorded):
                refusal = self.refusal(outcome)
                if refusal is not None:
                    outcome = refusal
            judged.append((record, outcome))
        return judged

    def refusal(self, recorded: Recorded) -> str | None:
        """Why the policy as known at the record's time refuses it, or None."""
        event, at = recorded.event, recorded.recorded_at
        # A valid time ahead of the record time (the broker's clock, or the embedded
        # log's) by more than producers' clocks drift (MAX_CLOCK_SKEW) is refused as the
        # intake refuses it ahead of its own clock: ``check`` then says only that. The
        # other rules that need a "now" (a hold not lapsed by then) are judged at the
        # event's own valid time, so a verdict never depends on when it is reached.
        known = self._known_at(at)
        if event.occurred_at > at + MAX_CLOCK_SKEW:
            ahead = _refusal(event, known, at)  # None when the rule is the intake's alone
            if ahead is not None:
                return ahead
        judged = _judged(event)
        if judged is None:
            return _refusal(event, known, event.occurred_at)
        catalog = known.in_force(event.controller, event.occurred_at)
        # ``known`` (kept in ``_as_known`` as long as the verdicts are) holds ``catalog``:
        # while a verdict is kept, these ids name that very version
        slot = (id(known), id(catalog), judged)
        if slot not in self._verdicts:
            if len(self._verdicts) >= KEPT_VERDICTS:
                self._verdicts.clear()  # a producer inventing purposes must not grow it
            self._verdicts[slot] = _refusal(event, known, event.occurred_at)
        return self._verdicts[slot]

    def _known_at(self, at: datetime) -> Catalogs:
        count = bisect_right(self._times, at)
        if count not in self._as_known:
            self._as_known[count] = _packaged().including(self._published[:count])
        return self._as_known[count]

    def _read_up_to(self, newest_ms: int) -> None:
        """Make sure every publication recorded at or before ``newest_ms`` is read. The
        records in hand were appended before this call, so a publication recorded before
        them is on the policy topic now, or in a transaction still open there."""
        if newest_ms <= self._covers_ms:
            return
        topic = [self._topics.policy]
        deadline = time.monotonic() + POLICY_TRANSACTION_WAIT_S
        while self._log.open_transactions(topic):
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"a transaction on {self._topics.policy} stayed open for "
                    f"{POLICY_TRANSACTION_WAIT_S:.0f} s: records cannot be judged without "
                    "the catalogs it may publish",
                    "check the producer publishing a catalog (`pdl catalog publish`); the "
                    "consumer retries, and the broker aborts it after the transaction timeout",
                )
            time.sleep(0.2)
        ends = self._log.end_offsets(topic)  # before the scan: a later publication re-reads
        if ends != self._read_at:
            self._published = publications(self._log, self._topics, self._registry)
            self._times = [_recorded_at(p) for p in self._published]
            self._as_known.clear()
            self._verdicts.clear()
            self._read_at = ends
        self._covers_ms = newest_ms
