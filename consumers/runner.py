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

from consumers.admission import Admission
from consumers.decode import record_time
from consumers.observe import Observer
from consumers.open_transactions import TELL_AFTER_S, abort_fix, held_partitions, waiting_on
from consumers.outage import Backoff, LogHealth
from consumers.state_cache import CACHED_TEXT, StateCache
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

CATCH_UP_BATCH = 2000
#: a rebuild's batches: its states are written once per batch, so a subject seen several
#: times in one batch is written once; memory grows with it (each record, and the states
#: of the subjects it touches, about 10 KiB each)
REBUILD_BATCH = 5_000
#: how often an idle ``run`` asks the log for its end offsets: an idle Kafka consumer's
#: poll returns nothing whether or not the broker is up, so only this tells them apart
PROBE_EVERY_S = 5.0
#: how long a catch-up waits without progress before it gives up, unless told otherwise
#: (``PDL_STALL_TIMEOUT`` sets it for every catch-up a command runs)
STALL_TIMEOUT_S = 60.0


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
        group: str | None = None,
        consumed: Sequence[str] | None = None,
        observer: Observer | None = None,
        grouped: bool = True,
        keys: KeyStore | None = None,
        cached_text: int = CACHED_TEXT,
        sole_writer: bool = False,
        batch_records: int = CATCH_UP_BATCH,
    ) -> None:
        self._log = log_
        self._store = store
        self._registry = registry
        self._projections = list(projections)
        #: default: the projections' group of this ledger (it follows the topic prefix)
        self.group = group or topics.projections_group
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
        #: ``sole_writer``: nothing but this consumer writes the store (a rebuild's own
        #: file), so the states it keeps need not be read back from it
        self._cache = StateCache(cached_text, authoritative=sole_writer)
        #: records per batch while catching up (a backlog: fewer, bigger commits)
        self.batch_records = batch_records
        #: every record is judged by the policy as known at its record time, like the
        #: intake judges it (consumers/admission.py): a record appended around the intake
        #: is dead-lettered if the policy refuses it
        self._admission = Admission(log_, registry, topics)

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
        polled = consumer.poll(timeout_s, max_records)
        applied_before = self._store.checkpoints(self.group)  # once, not per partition
        records = self._unseen(polled, applied_before)
        positions = consumer.positions()
        if not records and not self._moved(positions, applied_before):
            self.observer.positions(self.group, positions)
            return 0
        decoded = self._decode(records)
        self._dead_letter([(r, d) for r, d in decoded if isinstance(d, str)])
        started = time.perf_counter()
        try:
            with self._store.unit_of_work() as uow:
                self._apply(uow, decoded, positions)
                applied = time.perf_counter()
        except BaseException:
            self._cache.clear()  # it may hold states of the batch rolled back
            raise
        committed = time.perf_counter()
        consumer.commit(positions)
        self.observer.batch_applied(self.group, decoded, applied - started, committed - applied)
        self.observer.positions(self.group, positions)
        return len(records)

    def _decode(self, records: list[LogRecord]) -> list[tuple[LogRecord, Recorded | str]]:
        # a newer writer's schema is learned by the registry itself (its writer source)
        return self._admission.judge(records, self._keys)

    def caught_up(self, ends: Mapping[TopicPartition, int] | None = None) -> bool:
        """Whether the store has applied everything up to ``ends`` (default: now)."""
        targets = self._log.end_offsets(self.consumed) if ends is None else ends
        return all(self._store.checkpoint(self.group, tp) >= end for tp, end in targets.items())

    def catch_up(
        self, stall_timeout_s: float = STALL_TIMEOUT_S, stop: threading.Event | None = None
    ) -> Progress:
        """Apply everything appended so far, then return (or once ``stop`` is set, after
        the batch in hand is committed). Raises Unavailable if no progress is made for
        ``stall_timeout_s`` (a long backlog is fine)."""
        ends = self._log.end_offsets(self.consumed)  # "so far": once, not a moving target
        consumer = self.open_consumer()
        deadline = time.monotonic() + stall_timeout_s
        told = False  # whether this stall's open transaction was already logged
        try:
            while not self.caught_up(ends) and not (stop is not None and stop.is_set()):
                if time.monotonic() > deadline:
                    raise self._stalled(consumer, ends, stall_timeout_s)
                if not told and time.monotonic() > deadline - stall_timeout_s + TELL_AFTER_S:
                    told = True
                    held = held_partitions(self._log, consumer.positions(), ends)
                    if held:
                        log.warning("projections of group %s: %s", self.group, waiting_on(held))
                before = consumer.positions()
                # big batches: a backlog is applied with fewer commits (fsyncs)
                if (
                    self.step(consumer, timeout_s=0.5, max_records=self.batch_records)
                    or consumer.positions() != before
                ):
                    deadline = time.monotonic() + stall_timeout_s
                    told = False
        finally:
            consumer.close()
        return self.progress

    def _stalled(
        self, consumer: LogConsumer, ends: Mapping[TopicPartition, int], stall_timeout_s: float
    ) -> Unavailable:
        """The error for a catch-up that made no progress, naming an open transaction
        when one is what it waits on."""
        stalled = f"projections made no progress for {stall_timeout_s:.0f} s"
        held = held_partitions(self._log, consumer.positions(), ends)
        if held:
            return Unavailable(f"{stalled}: {waiting_on(held)}", abort_fix(held))
        return Unavailable(
            stalled,
            "check that the log is reachable, then retry; `pdl lag` shows how far "
            "the projections got",
        )

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

    def _unseen(
        self, records: list[LogRecord], applied: Mapping[TopicPartition, int]
    ) -> list[LogRecord]:
        """Drop records this group already applied (a redelivery after a crash)."""
        starts = {(tp.topic, tp.partition): n for tp, n in applied.items()}
        fresh = [r for r in records if r.offset >= starts.get((r.topic, r.partition), 0)]
        self.progress.skipped += len(records) - len(fresh)
        return fresh

    @staticmethod
    def _moved(positions: dict[TopicPartition, int], applied: Mapping[TopicPartition, int]) -> bool:
        return any(p > applied.get(tp, 0) for tp, p in positions.items())

    def _apply(
        self,
        uow: UnitOfWork,
        decoded: list[tuple[LogRecord, Recorded | str]],
        positions: Mapping[TopicPartition, int],
    ) -> None:
        """Fold the batch and write it: each state, the journal, the applied ids and each
        partition's checkpoint once per batch, in a few bulk statements."""
        # partitions as (topic, partition) pairs per record: cheaper to hash
        pairs = {(r.topic, r.partition) for r, _ in decoded}
        tps = {*positions, *(TopicPartition(topic, partition) for topic, partition in pairs)}
        current = {tp: uow.checkpoint(self.group, tp) for tp in tps}  # once per partition
        following = {(tp.topic, tp.partition): n for tp, n in current.items()}
        unseen: list[tuple[LogRecord, Recorded | str]] = []
        for record, outcome in decoded:
            pair = (record.topic, record.partition)
            if record.offset < following[pair]:
                self.progress.skipped += 1  # applied meanwhile by another member
                continue
            unseen.append((record, outcome))
            following[pair] = record.offset + 1
        next_offsets = {tp: following[(tp.topic, tp.partition)] for tp in tps}
        fresh = uow.record_applied_many(
            [o.event.event_id for _, o in unseen if isinstance(o, Recorded)]
        )
        applying: list[tuple[LogRecord, Recorded]] = []
        for record, outcome in unseen:
            if not isinstance(outcome, Recorded):
                continue  # dead-lettered: only the checkpoint moves past it
            if outcome.event.event_id in fresh:
                fresh.discard(outcome.event.event_id)
                applying.append((record, outcome))
            else:
                # the same event appended twice (a retry the intake did not remember):
                # counted once, whichever offsets it sits at
                self.progress.duplicates += 1
        self._fold(uow, [recorded for _, recorded in applying])
        uow.journal_many([entry for r, o in applying if (entry := self._journal(r, o))])
        self.progress.applied += len(applying)
        for tp, position in positions.items():
            next_offsets[tp] = max(next_offsets[tp], position)
        moved = {tp: n for tp, n in next_offsets.items() if n > current[tp]}
        if moved:
            uow.set_checkpoints(self.group, moved)

    @staticmethod
    def _journal(record: LogRecord, recorded: Recorded) -> JournalEntry | None:
        event = recorded.event
        if not isinstance(event, SubjectEvent):
            return None
        return JournalEntry(
            event.subject_id,
            event.occurred_at,
            event.event_id,
            record.timestamp_ms,
            record.topic,
            record.partition,
            record.offset,
            record.value,
        )

    def _fold(self, uow: UnitOfWork, batch: list[Recorded]) -> None:
        """Apply the batch to the states it touches, read in bulk (from the cache when
        the stored text is the one cached), and write each of them once."""
        keyed = [[p.key_of(recorded) for p in self._projections] for recorded in batch]
        for index, projection in enumerate(self._projections):
            keys = {k for k in (keys_of[index] for keys_of in keyed) if k is not None}
            if not keys:
                continue
            states = self._cache.states(uow, projection, keys)
            for recorded, keys_of in zip(batch, keyed, strict=True):
                key = keys_of[index]
                if key is not None:
                    states[key] = projection.apply(states[key], recorded)
            texts = {key: projection.dump(state) for key, state in states.items()}
            uow.put_states(projection.name, texts)
            self._cache.keep(projection, texts, states)

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
