"""The projection loop: poll, decode, fold, commit state and checkpoint together.

Bad records go to the dead-letter topic (before the checkpoint moves past them, so
none is lost) and the loop keeps going. An unreachable log is waited out (``run``);
records deleted from the log before they were applied stop the loop (``RecordsLost``):
projections built without them would be silently wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consumers.decode import decode, record_time
from consumers.observe import Observer
from consumers.outage import Backoff, LogHealth
from consumers.store import JournalEntry, ProjectionStore, UnitOfWork
from ledger.contract.deadletter import DeadLetter
from ledger.contract.events import SubjectEvent
from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry
from ledger.errors import Unavailable
from ledger.keys.store import KeyStore
from ledger.log.base import (
    EventLog,
    LogConsumer,
    LogRecord,
    OutgoingRecord,
    RecordsLost,
    TopicPartition,
    lost_records,
)
from projections.base import Projection, Recorded

log = logging.getLogger(__name__)

DEFAULT_GROUP = "pdl-projections"
CATCH_UP_BATCH = 2000
#: how often an idle ``run`` asks the log for its end offsets: an idle Kafka consumer's
#: poll returns nothing whether or not the broker is up, so only this tells them apart
PROBE_EVERY_S = 5.0


@dataclass
class Progress:
    applied: int = 0
    dead_letters: int = 0
    skipped: int = 0
    #: records whose event_id was already applied (appended twice), not applied again
    duplicates: int = 0


class ProjectionConsumer:
    def __init__(
        self,
        log_: EventLog,
        store: ProjectionStore,
        registry: SchemaRegistry,
        projections: Sequence[Projection[Any]],
        topics: Topics,
        group: str = DEFAULT_GROUP,
        consumed: Sequence[str] | None = None,
        observer: Observer | None = None,
        grouped: bool = True,
        keys: KeyStore | None = None,
    ) -> None:
        self._log = log_
        self._store = store
        self._registry = registry
        self._projections = list(projections)
        self.group = group
        self._topics = topics
        #: the topics this consumer reads (default: every event topic)
        self.consumed = list(consumed or topics.event_topics())
        store.check_versions({p.name: p.version() for p in self._projections})
        self.progress = Progress()
        self.observer = observer or Observer()
        #: whether to read as a member of ``group`` on the log (sharing partitions with
        #: the group's other members), or alone, owning every partition: a rebuild reads
        #: alone so it never waits on rebalances, yet checkpoints under ``group`` so that
        #: ``pdl run`` resumes from the rebuilt store.
        self.grouped = grouped
        #: with the key store, personal fields must be sealed under a key of their own
        #: subject and controller; without it (a rebuild on a host with no keys), only
        #: well-formed (consumers/decode.py)
        self._keys = keys

    def open_consumer(self) -> LogConsumer:
        """A consumer starting at the store's checkpoints; ``RecordsLost`` if the log no
        longer holds what comes next (for a new store: anything below offset 0)."""
        starts = self._log.start_offsets(self.consumed)
        lost = lost_records({tp: self._store.checkpoint(self.group, tp) for tp in starts}, starts)
        if lost:
            raise RecordsLost(lost, f"the projections of group {self.group}")
        return self._log.consumer(
            self.group if self.grouped else None,
            self.consumed,
            lambda tp: self._store.checkpoint(self.group, tp),
        )

    def step(self, consumer: LogConsumer, timeout_s: float = 1.0, max_records: int = 500) -> int:
        """Poll once and apply what came; returns the number of records handled."""
        records = self._unseen(consumer.poll(timeout_s, max_records))
        positions = consumer.positions()
        if not records and not self._moved(positions):
            self.observer.positions(self.group, positions)
            return 0
        decoded = self._decode(records)
        self._dead_letter([(r, d) for r, d in decoded if isinstance(d, str)])
        started = time.perf_counter()
        with self._store.unit_of_work() as uow:
            self._apply(uow, decoded)
            for tp, position in positions.items():
                if position > uow.checkpoint(self.group, tp):
                    uow.set_checkpoint(self.group, tp, position)
            applied = time.perf_counter()
        committed = time.perf_counter()
        consumer.commit(positions)
        self.observer.batch_applied(self.group, decoded, applied - started, committed - applied)
        self.observer.positions(self.group, positions)
        return len(records)

    def _decode(self, records: list[LogRecord]) -> list[tuple[LogRecord, Recorded | str]]:
        # a newer writer's schema is learned by the registry itself (its writer source)
        return [(r, decode(r, self._registry, self._keys)) for r in records]

    def caught_up(self, ends: Mapping[TopicPartition, int] | None = None) -> bool:
        """Whether the store has applied everything up to ``ends`` (default: now)."""
        targets = self._log.end_offsets(self.consumed) if ends is None else ends
        return all(self._store.checkpoint(self.group, tp) >= end for tp, end in targets.items())

    def catch_up(
        self, stall_timeout_s: float = 60.0, stop: threading.Event | None = None
    ) -> Progress:
        """Apply everything appended so far, then return (or once ``stop`` is set, after
        the batch in hand is committed). Raises Unavailable if no progress is made for
        ``stall_timeout_s`` (a long backlog is fine)."""
        ends = self._log.end_offsets(self.consumed)  # "so far": once, not a moving target
        consumer = self.open_consumer()
        deadline = time.monotonic() + stall_timeout_s
        try:
            while not self.caught_up(ends) and not (stop is not None and stop.is_set()):
                if time.monotonic() > deadline:
                    raise Unavailable(
                        f"projections made no progress for {stall_timeout_s:.0f} s",
                        "check that the log is reachable, then retry; `pdl lag` shows how far "
                        "the projections got",
                    )
                before = consumer.positions()
                # big batches: a backlog is applied with fewer commits (fsyncs)
                if (
                    self.step(consumer, timeout_s=0.5, max_records=CATCH_UP_BATCH)
                    or consumer.positions() != before
                ):
                    deadline = time.monotonic() + stall_timeout_s
        finally:
            consumer.close()
        return self.progress

    def run(
        self,
        stop: threading.Event,
        poll_timeout_s: float = 0.5,
        health: LogHealth | None = None,
        backoff: Backoff | None = None,
    ) -> Progress:
        """Apply records until ``stop`` is set; each step commits before stop is checked.

        While the log is unreachable it retries with ``backoff``, reporting to ``health``;
        the consumer is reopened at the store's checkpoints, so a batch cut short by the
        outage is read again. ``RecordsLost`` (and any non-``Unavailable`` error) ends it."""
        health = health or LogHealth(self.group)
        backoff = backoff or Backoff()
        consumer: LogConsumer | None = None
        probed = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    if consumer is None:
                        consumer = self.open_consumer()  # asks the log: it is reachable
                    elif self.step(consumer, timeout_s=poll_timeout_s):
                        probed = time.monotonic()
                    elif time.monotonic() - probed >= PROBE_EVERY_S:
                        self._log.end_offsets(self.consumed)
                        probed = time.monotonic()
                    else:
                        continue
                except Unavailable as exc:
                    _closed(consumer)
                    consumer = None
                    delay = backoff.delay()
                    health.failed(exc, delay)
                    stop.wait(delay)
                    continue
                health.succeeded()
                backoff.reset()
        finally:
            _closed(consumer)
        return self.progress

    def _unseen(self, records: list[LogRecord]) -> list[LogRecord]:
        """Drop records this group already applied (a redelivery after a crash)."""
        done: dict[TopicPartition, int] = {}
        fresh = []
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            if tp not in done:
                done[tp] = self._store.checkpoint(self.group, tp)
            if r.offset >= done[tp]:
                fresh.append(r)
        self.progress.skipped += len(records) - len(fresh)
        return fresh

    def _moved(self, positions: dict[TopicPartition, int]) -> bool:
        return any(p > self._store.checkpoint(self.group, tp) for tp, p in positions.items())

    def _apply(self, uow: UnitOfWork, decoded: list[tuple[LogRecord, Recorded | str]]) -> None:
        states: dict[tuple[int, str], Any] = {}
        next_offsets: dict[TopicPartition, int] = {}  # read once per partition, not per record
        for record, outcome in decoded:
            tp = TopicPartition(record.topic, record.partition)
            if tp not in next_offsets:
                next_offsets[tp] = uow.checkpoint(self.group, tp)
            if record.offset < next_offsets[tp]:
                self.progress.skipped += 1
                continue
            if isinstance(outcome, Recorded) and not uow.record_applied(outcome.event.event_id):
                # the same event appended twice (a retry the intake did not remember):
                # counted once, whichever offsets it sits at
                self.progress.duplicates += 1
            elif isinstance(outcome, Recorded):
                self._fold(uow, states, outcome)
                self._journal(uow, record, outcome)
                self.progress.applied += 1
            next_offsets[tp] = record.offset + 1
        for tp, next_offset in next_offsets.items():
            if next_offset > uow.checkpoint(self.group, tp):
                uow.set_checkpoint(self.group, tp, next_offset)
        for (index, key), state in states.items():
            projection = self._projections[index]
            uow.put_state(projection.name, key, projection.dump(state))

    @staticmethod
    def _journal(uow: UnitOfWork, record: LogRecord, recorded: Recorded) -> None:
        event = recorded.event
        if isinstance(event, SubjectEvent):
            uow.journal(
                JournalEntry(
                    event.subject_id,
                    event.occurred_at,
                    event.event_id,
                    record.timestamp_ms,
                    record.topic,
                    record.partition,
                    record.offset,
                    record.value,
                )
            )

    def _fold(
        self, uow: UnitOfWork, states: dict[tuple[int, str], Any], recorded: Recorded
    ) -> None:
        for index, projection in enumerate(self._projections):
            key = projection.key_of(recorded)
            if key is None:
                continue
            slot = (index, key)
            if slot not in states:
                stored = uow.state(projection.name, key)
                states[slot] = (
                    projection.initial(key) if stored is None else projection.load(stored)
                )
            states[slot] = projection.apply(states[slot], recorded)

    def _dead_letter(self, bad: list[tuple[LogRecord, Recorded | str]]) -> None:
        if not bad:
            return
        out = []
        for record, reason in bad:
            assert isinstance(reason, str)
            letter = DeadLetter.of(record, self.group, reason, record_time(record))
            value = self._registry.encode(DeadLetter.type_name(), letter.model_dump(mode="python"))
            key = letter.dead_letter_id.encode()
            out.append(OutgoingRecord(self._topics.dead_letter, key, value))
            log.warning("dead letter %s: %s", letter.dead_letter_id, reason)
        self._log.append(out)
        self.progress.dead_letters += len(out)


def _closed(consumer: LogConsumer | None) -> None:
    """Close ``consumer`` if open; a log gone away cannot fail the close."""
    if consumer is not None:
        try:
            consumer.close()
        except Unavailable as exc:
            log.info("closing a consumer of an unreachable log: %s", exc.message)
