"""The Kafka adapter, on kafka-python.

Appends go through a transactional, idempotent producer (``acks=all``), so a batch
from ``pdl emit`` is all-or-nothing on the broker too; consumers read committed
records only. An append returns only once its commit was acknowledged, within bounded
waits: an error before the commit aborts (``LogError``: nothing committed), an error or a
time-out during it is ``AppendOutcomeUnknown``. A transaction its producer abandoned (a
killed ``pdl emit``) is aborted by the broker after ``transaction_timeout_ms``, which the
ledger sets short, so readers behind it wait seconds, not the client's default minute.

Topics are created with explicit partition counts and the topic contract
(``ledger_topic_config``): nothing expires, record time is the broker's (LogAppendTime).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTP
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (
    InvalidTransactionTimeoutError,
    KafkaError,
    OffsetOutOfRangeError,
    TopicAlreadyExistsError,
)
from kafka.structs import OffsetAndMetadata

from ledger.log.base import (
    MIN_INSYNC_REPLICAS,
    AppendOutcomeUnknown,
    EventLog,
    LogConsumer,
    LogError,
    LogRecord,
    OutgoingRecord,
    RecordsLost,
    StartOffsets,
    TopicPartition,
    TopicSettings,
    keyed_partition,
    ledger_topic_config,
    lost_records,
)
from ledger.log.kafka_security import PLAINTEXT, KafkaSecurity

log = logging.getLogger(__name__)

_FIX = "check that the brokers are up and reachable from here, then retry"


def _quiet_unless_verbose() -> None:
    """kafka-python logs a warning per reconnection attempt (twenty lines before a one-line
    error); this adapter reports failures itself, as ``LogError``. Its own log stays
    visible when the process logs at INFO (``pdl -v``) or the ``kafka`` logger was set."""
    library = logging.getLogger("kafka")
    if library.level == logging.NOTSET and not logging.getLogger().isEnabledFor(logging.INFO):
        library.setLevel(logging.CRITICAL)


@contextlib.contextmanager
def _reported(bootstrap: str, doing: str) -> Iterator[None]:
    """kafka-python's errors, raised as the port's ``LogError``."""
    try:
        yield
    except KafkaError as exc:
        raise LogError(
            f"{doing} on {bootstrap} failed: {exc}",
            _FIX,
        ) from exc


class KafkaEventLog(EventLog):
    def __init__(
        self,
        bootstrap: str,
        *,
        replication_factor: int | None = None,
        min_insync_replicas: int | None = None,
        transaction_timeout_ms: int = 20_000,
        request_timeout_ms: int = 30_000,
        max_block_ms: int = 60_000,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        _quiet_unless_verbose()
        self.bootstrap = bootstrap
        self._security = security
        # None: the cluster's broker count, up to 3 (``_replication_of``)
        self._replication = replication_factor
        self._min_insync = min_insync_replicas
        self._transaction_timeout_ms = transaction_timeout_ms
        self._timeout_ms = request_timeout_ms
        self._max_block_ms = max_block_ms
        self._producer: Any = None
        self._producer_timeout_ms = transaction_timeout_ms
        self._offsets_reader: Any = None
        self._times_consumer: Any = None
        self._range_consumer: Any = None

    def ensure_topics(self, topics: Mapping[str, int], compacted: Iterable[str] = ()) -> None:
        compact = set(compacted)
        admin = self._admin()
        try:
            existing = set(admin.list_topics())
            absent = {name: n for name, n in topics.items() if name not in existing}
            replication, min_insync = self._replication_of(admin) if absent else (1, 1)
            missing = [
                NewTopic(
                    name,
                    num_partitions=n,
                    replication_factor=replication,
                    topic_configs={
                        **ledger_topic_config(name in compact),
                        MIN_INSYNC_REPLICAS: str(min_insync),
                    },
                )
                for name, n in absent.items()
            ]
            if missing:
                # another process may create one between list and create
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics(missing, wait_for_metadata=True)
        except KafkaError as exc:
            raise LogError(f"cannot create topics on {self.bootstrap}: {exc}", _FIX) from exc
        finally:
            admin.close()

    def _replication_of(self, admin: Any) -> tuple[int, int]:
        """The replication factor and min.insync.replicas new topics get: the settings,
        else the cluster's broker count up to 3, and one less (at least 1)."""
        replication = self._replication
        if replication is None:
            brokers = admin.describe_cluster().get("brokers") or [None]
            replication = min(3, len(brokers))
        return replication, self._min_insync or max(1, replication - 1)

    def topic_settings(self, topics: Iterable[str]) -> dict[str, TopicSettings]:
        wanted = set(topics)
        admin = self._admin()
        try:
            with _reported(self.bootstrap, "reading topic configurations"):
                present = sorted(set(admin.list_topics()) & wanted)
                if not present:
                    return {}
                described = admin.describe_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, name) for name in present],
                    config_filter="all",  # effective values, broker defaults included
                )
                replicas = {
                    t["name"]: min(len(p["replica_nodes"]) for p in t["partitions"])
                    for t in admin.describe_topics(present)
                }
        finally:
            admin.close()
        configs = described.get("topic", {}) if isinstance(described, dict) else {}
        names = [*ledger_topic_config(compacted=False), MIN_INSYNC_REPLICAS]
        return {
            topic: TopicSettings(
                topic,
                {n: str(configs[topic][n]["value"]) for n in names if n in configs.get(topic, {})},
                replicas.get(topic, 0),
            )
            for topic in present
        }

    def append(self, records: Iterable[OutgoingRecord]) -> None:
        try:
            producer = self._transactional_producer(self._transaction_ms_for(records))
        except LogError as exc:
            raise LogError(
                f"append to {self.bootstrap} failed, nothing committed: {exc.message}", exc.fix
            ) from exc
        try:
            producer.begin_transaction()
            failed: list[BaseException] = []
            for record in _callers(records):
                # no future kept per record: a batch of millions stays in bounded memory
                producer.send(record.topic, key=record.key, value=record.value).add_errback(
                    failed.append
                )
            # every record acknowledged before the commit is asked for: until then any
            # error, the client library's own state errors included, can still abort
            self._within("delivering the batch", producer.flush)
            if failed:
                raise failed[0]
        except _CallersError as exc:  # the records' own iterable failed: nothing committed
            self._abort(producer)
            raise exc.error from exc.error.__cause__
        except Exception as exc:  # whatever failed, nothing was committed
            self._abort(producer)
            raise LogError(
                f"append to {self.bootstrap} failed, nothing committed: {_cause(exc)}", _FIX
            ) from exc
        try:
            self._within("committing the batch", producer.commit_transaction)
        except Exception as exc:  # the commit may or may not have happened
            self._discard_producer()
            raise AppendOutcomeUnknown(self.bootstrap, _cause(exc)) from exc

    def _transaction_ms_for(self, records: Iterable[OutgoingRecord]) -> int:
        """The transaction time-out an append of ``records`` gets: the setting, plus the
        time a known number of records takes at the slowest sizing rate, so that the
        broker never aborts a large batch that is still being sent."""
        if not isinstance(records, Sized):
            return self._transaction_timeout_ms
        return self._transaction_timeout_ms + len(records) * 1000 // SIZING_RECORDS_PER_S

    def _within(self, doing: str, call: Callable[[], object]) -> None:
        """``call()``, or ``LogError`` once ``max_block_ms`` and a request time-out
        passed: the client's own waits for a flush or a commit are unbounded while the
        broker is away, and its own errors, when it has any, come first."""
        failure: list[BaseException] = []

        def run() -> None:
            try:
                call()
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=run, name=f"pdl {doing}", daemon=True)
        worker.start()
        waited_s = (self._max_block_ms + self._timeout_ms) / 1000
        worker.join(waited_s)
        if worker.is_alive():
            raise LogError(f"{doing} on {self.bootstrap}: no answer in {waited_s:.0f} s", _FIX)
        if failure:
            raise failure[0]

    def _abort(self, producer: Any) -> None:
        """Abort the open transaction, or drop the producer: a transaction never asked to
        commit is aborted by the broker after the transaction timeout."""
        try:
            self._within("aborting the batch", producer.abort_transaction)
        except Exception:  # the producer is unusable; a new one starts clean
            self._discard_producer()

    def end_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        reader = self._reader()
        with _reported(self.bootstrap, "reading end offsets"):
            tps = [KafkaTP(topic, p) for topic in topics for p in self._partitions(reader, topic)]
            ends = reader.end_offsets(tps) if tps else {}
        return {TopicPartition(tp.topic, tp.partition): int(o) for tp, o in ends.items()}

    def open_transactions(self, topics: Iterable[str]) -> dict[TopicPartition, tuple[int, int]]:
        # the last stable offset is a read_committed reader's end offset; asked only when a
        # reader is stalled, so this reader is not kept open between calls
        reader = self._reader()
        with _reported(self.bootstrap, "reading last stable offsets"):
            tps = [KafkaTP(topic, p) for topic in topics for p in self._partitions(reader, topic)]
            if not tps:
                return {}
            stable_reader = KafkaConsumer(
                bootstrap_servers=self.bootstrap,
                **self._security.client_options(),
                client_id="pdl-stable-offsets",
                request_timeout_ms=self._timeout_ms,
                bootstrap_timeout_ms=self._timeout_ms,
                isolation_level="read_committed",
                enable_auto_commit=False,
            )
            try:
                stable = stable_reader.end_offsets(tps)
            finally:
                stable_reader.close(autocommit=False)
            high = reader.end_offsets(tps)
        return {
            TopicPartition(tp.topic, tp.partition): (int(stable[tp]), int(high[tp]))
            for tp in tps
            if int(stable[tp]) < int(high[tp])
        }

    def _partitions(self, reader: Any, topic: str) -> list[int]:
        """Partitions of a topic; waits briefly for metadata of a topic just created."""
        deadline = time.monotonic() + self._timeout_ms / 1000
        while True:
            found = reader.partitions_for_topic(topic)
            if found or time.monotonic() > deadline:
                return sorted(found or ())
            reader.topics()  # forces a metadata refresh
            time.sleep(0.1)

    def start_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        reader = self._reader()
        with _reported(self.bootstrap, "reading log start offsets"):
            tps = [KafkaTP(topic, p) for topic in topics for p in self._partitions(reader, topic)]
            starts = reader.beginning_offsets(tps) if tps else {}
        return {TopicPartition(tp.topic, tp.partition): int(o) for tp, o in starts.items()}

    def committed(
        self, group: str, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        wanted = [KafkaTP(tp.topic, tp.partition) for tp in partitions]
        if not wanted:
            return {}
        admin = self._admin()
        deadline = time.monotonic() + self._timeout_ms / 1000
        try:
            with _reported(self.bootstrap, f"reading the offsets of group {group}"):
                while True:
                    try:
                        offsets = admin.list_group_offsets({group: wanted}).get(group, {})
                        break
                    except KafkaError as exc:
                        # a new cluster creates its offsets topic (the coordinator) lazily
                        if not exc.retriable or time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
        finally:
            admin.close()
        # -1: the group has no offset on that partition
        return {
            TopicPartition(tp.topic, tp.partition): int(meta.offset)
            for tp, meta in offsets.items()
            if meta.offset >= 0
        }

    def delete_records(self, before: Mapping[TopicPartition, int]) -> None:
        admin = self._admin()
        try:
            with _reported(self.bootstrap, "deleting records"):
                admin.delete_records(
                    {KafkaTP(tp.topic, tp.partition): offset for tp, offset in before.items()}
                )
        finally:
            admin.close()

    def first_record_times(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        with _reported(self.bootstrap, "reading record times"):
            return self._first_record_times(starts, ends)

    def _first_record_times(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        consumer = self._times_reader()
        wanted = {KafkaTP(tp.topic, tp.partition): tp for tp in starts}
        consumer.assign(list(wanted))
        for ktp, tp in wanted.items():
            consumer.seek(ktp, starts[tp])
        found: dict[TopicPartition, int] = {}
        pending = set(wanted)
        deadline = time.monotonic() + self._timeout_ms / 1000
        while pending and time.monotonic() < deadline:
            for ktp, messages in consumer.poll(timeout_ms=200).items():
                if ktp in pending and messages:
                    found[wanted[ktp]] = int(messages[0].timestamp)
                    pending.discard(ktp)
            for ktp in list(pending):  # only markers left before the end: nothing to wait on
                if consumer.position(ktp) >= ends[wanted[ktp]]:
                    pending.discard(ktp)
            consumer.pause(*(set(wanted) - pending))
        consumer.assign([])
        return found

    def _times_reader(self) -> Any:
        """A groupless ``read_uncommitted`` reader of single records: the record a consumer
        waits on may belong to a transaction still open, and its record time is what the
        wait is measured from."""
        if self._times_consumer is None:
            try:
                self._times_consumer = KafkaConsumer(
                    bootstrap_servers=self.bootstrap,
                    **self._security.client_options(),
                    client_id="pdl-lag",
                    request_timeout_ms=self._timeout_ms,
                    bootstrap_timeout_ms=self._timeout_ms,
                    group_id=None,
                    enable_auto_commit=False,
                    isolation_level="read_uncommitted",
                    auto_offset_reset="earliest",  # a checkpoint before retention: the oldest
                    max_partition_fetch_bytes=64 * 1024,
                )
            except KafkaError as exc:
                raise LogError(
                    f"no Kafka broker reachable at {self.bootstrap}: {exc}", self._security.fix()
                ) from exc
        return self._times_consumer

    def scan(self, topics: Iterable[str]) -> Iterator[LogRecord]:
        ends = {
            KafkaTP(tp.topic, tp.partition): end for tp, end in self.end_offsets(topics).items()
        }
        if not ends:
            return
        with _reported(self.bootstrap, "scanning"):
            yield from self._scan(ends)

    def partition_for(self, topic: str, key: bytes) -> int:
        with _reported(self.bootstrap, "reading the partitions of a topic"):
            count = len(self._partitions(self._reader(), topic))
        if not count:
            raise LogError(f"topic {topic!r} does not exist", "run `pdl doctor` to create it")
        return keyed_partition(key, count)

    def read_partition(
        self, tp: TopicPartition, start: int, end: int | None = None
    ) -> Iterator[LogRecord]:
        """One range at a time, on one groupless consumer kept open: a subject's reads
        are a few short ranges, and a consumer's start costs more than any of them."""
        ktp = KafkaTP(tp.topic, tp.partition)
        stop = self.end_offsets([tp.topic]).get(tp, 0) if end is None else end
        if start >= stop:
            return
        with _reported(self.bootstrap, f"reading {tp.topic}[{tp.partition}]"):
            reader = self._range_reader()
            reader.assign([ktp])
            reader.seek(ktp, start)
            deadline = time.monotonic() + self._timeout_ms / 1000
            while reader.position(ktp) < stop:
                batches = reader.poll(timeout_ms=500, max_records=1000)
                if batches:
                    deadline = time.monotonic() + self._timeout_ms / 1000
                elif time.monotonic() > deadline:
                    raise LogError(f"reading {tp.topic}[{tp.partition}] stalled before {stop}")
                yield from (_record(m) for m in batches.get(ktp, []) if m.offset < stop)

    def _range_reader(self) -> Any:
        if self._range_consumer is None:
            try:
                self._range_consumer = KafkaConsumer(
                    bootstrap_servers=self.bootstrap,
                    **self._security.client_options(),
                    client_id="pdl-read",
                    request_timeout_ms=self._timeout_ms,
                    bootstrap_timeout_ms=self._timeout_ms,
                    group_id=None,
                    enable_auto_commit=False,
                    isolation_level="read_committed",
                    # never jump to what is left: a range below the log start fails
                    auto_offset_reset="none",
                )
            except KafkaError as exc:
                raise LogError(
                    f"no Kafka broker reachable at {self.bootstrap}: {exc}", self._security.fix()
                ) from exc
        return self._range_consumer

    def _scan(self, ends: Mapping[KafkaTP, int]) -> Iterator[LogRecord]:
        reader = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            **self._security.client_options(),
            client_id="pdl-scan",
            request_timeout_ms=self._timeout_ms,
            bootstrap_timeout_ms=self._timeout_ms,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        try:
            reader.assign(sorted(ends, key=lambda t: (t.topic, t.partition)))
            reader.seek_to_beginning()
            deadline = time.monotonic() + self._timeout_ms / 1000
            while any(reader.position(tp) < end for tp, end in ends.items()):
                batches = reader.poll(timeout_ms=500, max_records=1000)
                if batches:
                    deadline = time.monotonic() + self._timeout_ms / 1000
                elif time.monotonic() > deadline:
                    raise LogError(f"scan of {self.bootstrap} stalled before the end offsets")
                for tp in sorted(batches, key=lambda t: (t.topic, t.partition)):
                    yield from (_record(m) for m in batches[tp] if m.offset < ends[tp])
        finally:
            reader.close()

    def consumer(
        self, group: str | None, topics: Sequence[str], start: StartOffsets
    ) -> LogConsumer:
        if group is None:
            tps = [KafkaTP(tp.topic, tp.partition) for tp in self.end_offsets(topics)]
            return KafkaLogConsumer(
                self.bootstrap, None, tps, start, self._timeout_ms, self._security
            )
        return KafkaLogConsumer(
            self.bootstrap, group, topics, start, self._timeout_ms, self._security
        )

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None
        if self._offsets_reader is not None:
            self._offsets_reader.close()
            self._offsets_reader = None
        if self._times_consumer is not None:
            self._times_consumer.close(autocommit=False)
            self._times_consumer = None
        if self._range_consumer is not None:
            self._range_consumer.close(autocommit=False)
            self._range_consumer = None

    def _admin(self) -> Any:
        try:
            return KafkaAdminClient(
                bootstrap_servers=self.bootstrap,
                **self._security.client_options(),
                client_id="pdl-admin",
                request_timeout_ms=self._timeout_ms,
                bootstrap_timeout_ms=self._timeout_ms,
            )
        except KafkaError as exc:
            raise LogError(
                f"no Kafka broker reachable at {self.bootstrap}: {exc}", self._security.fix()
            ) from exc

    def _transactional_producer(self, transaction_timeout_ms: int) -> Any:
        """The producer, with a transaction time-out of at least the one asked for (a
        longer one replaces it: a time-out is fixed when a producer starts)."""
        if self._producer is not None and self._producer_timeout_ms < transaction_timeout_ms:
            self._discard_producer()
        if self._producer is None:
            try:
                producer = KafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    **self._security.client_options(),
                    client_id="pdl-producer",
                    acks="all",
                    enable_idempotence=True,
                    transactional_id=f"pdl-append-{uuid.uuid4()}",
                    linger_ms=5,
                    request_timeout_ms=self._timeout_ms,
                    bootstrap_timeout_ms=self._timeout_ms,
                    max_block_ms=self._max_block_ms,
                    # a record not acknowledged by then fails its batch (the client
                    # needs more than linger_ms + request_timeout_ms)
                    delivery_timeout_ms=self._timeout_ms + 1_000,
                    transaction_timeout_ms=transaction_timeout_ms,
                )
                producer.init_transactions()
            except KafkaError as exc:
                if not _transaction_too_long(exc):
                    raise LogError(
                        f"no Kafka broker reachable at {self.bootstrap}: {exc}",
                        self._security.fix(),
                    ) from exc
                raise LogError(
                    f"a batch this large needs a transaction of {transaction_timeout_ms // 1000}"
                    " s, longer than the brokers allow (transaction.max.timeout.ms, 900 s by "
                    f"default): {exc}",
                    "split the input into smaller files (each is one transaction; at the "
                    f"sizing rate of {SIZING_RECORDS_PER_S:,} records/s, 900 s holds about "
                    f"{(900 - self._transaction_timeout_ms // 1000) * SIZING_RECORDS_PER_S:,} "
                    "records), or raise transaction.max.timeout.ms on the brokers",
                ) from exc
            self._producer = producer
            self._producer_timeout_ms = transaction_timeout_ms
        return self._producer

    def _discard_producer(self) -> None:
        """Drop a producer whose transaction state is unknown; the next append starts a
        new one, under a new transactional id."""
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                producer.close(timeout=0)

    def _reader(self) -> Any:
        if self._offsets_reader is None:
            try:
                # High watermarks, not last stable offsets: they include the commit
                # markers of transactions that just returned, which read_committed
                # offsets only show a moment later. A read_committed consumer passes
                # the high watermark once every transaction before it has resolved.
                self._offsets_reader = KafkaConsumer(
                    bootstrap_servers=self.bootstrap,
                    **self._security.client_options(),
                    client_id="pdl-offsets",
                    request_timeout_ms=self._timeout_ms,
                    bootstrap_timeout_ms=self._timeout_ms,
                    isolation_level="read_uncommitted",
                    enable_auto_commit=False,
                )
            except KafkaError as exc:
                raise LogError(
                    f"no Kafka broker reachable at {self.bootstrap}: {exc}", self._security.fix()
                ) from exc
        return self._offsets_reader


#: The slowest rate, in records per second, an append's transaction time-out is sized
#: for: a fraction of what one producer sends on a small machine (about 10,000/s), so a
#: large batch is never aborted by the broker while it is still being sent.
SIZING_RECORDS_PER_S = 2_000


class _CallersError(Exception):
    """An error raised by the records given to ``append``, not by the log."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _callers(records: Iterable[OutgoingRecord]) -> Iterator[OutgoingRecord]:
    """``records``, with the errors their iterable raises told apart from the log's."""
    source = iter(records)
    while True:
        try:
            record = next(source)
        except StopIteration:
            return
        except Exception as exc:
            raise _CallersError(exc) from exc
        yield record


def _transaction_too_long(exc: KafkaError) -> bool:
    """Whether the brokers refused a producer's transaction time-out (kafka-python
    reports it wrapped in a generic error, by name)."""
    return isinstance(exc, InvalidTransactionTimeoutError) or (
        InvalidTransactionTimeoutError.__name__ in str(exc)
    )


def _cause(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _record(m: Any) -> LogRecord:
    return LogRecord(m.topic, m.partition, m.offset, m.key or b"", m.value or b"", m.timestamp)


class _SeekToCheckpoint(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: Any, start: StartOffsets) -> None:
        self._consumer = consumer
        self._start = start

    def on_partitions_revoked(self, revoked: Any) -> None:
        pass  # state is checkpointed per batch; nothing pending to flush

    def on_partitions_assigned(self, assigned: Any) -> None:
        for tp in assigned:
            self._consumer.seek(tp, self._start(TopicPartition(tp.topic, tp.partition)))


class KafkaLogConsumer(LogConsumer):
    """A group member subscribed to topics, or (no group) the owner of given partitions."""

    def __init__(
        self,
        bootstrap: str,
        group: str | None,
        topics: Sequence[str] | Sequence[KafkaTP],
        start: StartOffsets,
        request_timeout_ms: int = 30_000,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._grouped = group is not None
        self._group = group
        self._bootstrap = bootstrap
        try:
            self._consumer = KafkaConsumer(
                bootstrap_servers=bootstrap,
                **security.client_options(),
                group_id=group,
                client_id=f"pdl-{group or 'ungrouped'}",
                enable_auto_commit=False,
                # never jump to what is left: a checkpoint below the log start means
                # records were deleted unread, which the reader must be told (poll)
                auto_offset_reset="none",
                isolation_level="read_committed",
                request_timeout_ms=request_timeout_ms,
                bootstrap_timeout_ms=request_timeout_ms,
            )
        except KafkaError as exc:
            raise LogError(
                f"no Kafka broker reachable at {bootstrap}: {exc}", security.fix()
            ) from exc
        with _reported(bootstrap, "joining the topics"):
            if group is None:
                partitions = [tp for tp in topics if isinstance(tp, KafkaTP)]
                self._consumer.assign(partitions)
                for tp in partitions:
                    self._consumer.seek(tp, start(TopicPartition(tp.topic, tp.partition)))
            else:
                names = [t for t in topics if isinstance(t, str)]
                self._consumer.subscribe(names, listener=_SeekToCheckpoint(self._consumer, start))

    def poll(self, timeout_s: float, max_records: int = 500) -> list[LogRecord]:
        with _reported(self._bootstrap, "polling"):
            try:
                batches = self._consumer.poll(
                    timeout_ms=int(timeout_s * 1000), max_records=max_records
                )
            except OffsetOutOfRangeError as exc:
                raise self._lost(exc) from None
        return [
            _record(m)
            for tp in sorted(batches, key=lambda t: (t.topic, t.partition))
            for m in batches[tp]
        ]

    def _lost(self, exc: OffsetOutOfRangeError) -> LogError | RecordsLost:
        """What was deleted below the offsets the broker called out of range."""
        wanted = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        starts = self._consumer.beginning_offsets(list(wanted))
        lost = lost_records(
            {TopicPartition(tp.topic, tp.partition): int(o) for tp, o in wanted.items()},
            {TopicPartition(tp.topic, tp.partition): int(o) for tp, o in starts.items()},
        )
        if not lost:  # out of range above the end: not a deletion
            return LogError(f"polling {self._bootstrap}: offsets out of range ({exc})")
        return RecordsLost(lost, f"consumer of group {self._group or '(none)'}")

    def positions(self) -> dict[TopicPartition, int]:
        with _reported(self._bootstrap, "reading positions"):
            return {
                TopicPartition(tp.topic, tp.partition): int(self._consumer.position(tp))
                for tp in self._consumer.assignment()
            }

    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        if not next_offsets or not self._grouped:
            return
        offsets = {
            KafkaTP(tp.topic, tp.partition): OffsetAndMetadata(offset, "", -1)
            for tp, offset in next_offsets.items()
        }
        try:
            self._consumer.commit(offsets)
        except KafkaError as exc:  # advisory: lag figures lag a little, state is safe
            log.warning("group offset commit failed: %s", type(exc).__name__)

    def close(self) -> None:
        with _reported(self._bootstrap, "closing a consumer"):
            self._consumer.close(autocommit=False)
