"""The Kafka adapter on confluent-kafka (librdkafka): the same port, semantics and topic
contract as ``ledger.log.kafka`` (kafka-python), with the fetching, checksumming and
batching done in C. Chosen with ``PDL_KAFKA_CLIENT=confluent`` (docs/OPERATORS.md).

This module creates and describes topics and reads offsets (one admin client, kept
open); appends are ``ledger.log.confluent_append``'s, reads
``ledger.log.confluent_reading``'s.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from confluent_kafka import (
    IsolationLevel,
    KafkaError,
    KafkaException,
)
from confluent_kafka import TopicPartition as KafkaTP

# re-exported without `as`, which strict mypy does not count as exported
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

from ledger.log.base import (
    EventLog,
    LogConsumer,
    LogRecord,
    OutgoingRecord,
    StartOffsets,
    TopicPartition,
    TopicSettings,
)
from ledger.log.confluent_append import TransactionalAppender
from ledger.log.confluent_reading import (
    ConfluentLogConsumer,
    cause,
    client_config,
    error_code,
    kafka_error,
    passing,
    read_ranges,
    reported,
)
from ledger.log.kafka_security import PLAINTEXT, KafkaSecurity, unreachable
from ledger.log.kafka_topics import SETTING_NAMES, new_topic_config, replication_of

_T = TypeVar("_T")

#: what ``list_offsets`` is asked for (the library leaves these untyped)
_LATEST: OffsetSpec = OffsetSpec.latest()  # type: ignore[no-untyped-call]
_EARLIEST: OffsetSpec = OffsetSpec.earliest()  # type: ignore[no-untyped-call]


class ConfluentEventLog(EventLog):
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
        self.bootstrap = bootstrap
        self._security = security
        self._replication = replication_factor
        self._min_insync = min_insync_replicas
        self._timeout_ms = request_timeout_ms
        self._appender = TransactionalAppender(
            bootstrap, security, transaction_timeout_ms, request_timeout_ms, max_block_ms
        )
        self._admin_client: AdminClient | None = None

    # topics

    def ensure_topics(self, topics: Mapping[str, int], compacted: Iterable[str] = ()) -> None:
        compact = set(compacted)
        admin = self._admin()
        with self._reported("creating topics"):
            existing = set(admin.list_topics(timeout=self._timeout_s).topics)
            absent = {name: n for name, n in topics.items() if name not in existing}
            if not absent:
                return
            replication, min_insync = replication_of(
                self._replication,
                self._min_insync,
                lambda: len(admin.list_topics(timeout=self._timeout_s).brokers),
            )
            created = admin.create_topics(
                [
                    NewTopic(
                        name,
                        num_partitions=n,
                        replication_factor=replication,
                        config=new_topic_config(name in compact, min_insync),
                    )
                    for name, n in absent.items()
                ],
                request_timeout=self._timeout_s,
            )
            for future in created.values():
                try:
                    future.result()
                except KafkaException as exc:
                    # another process may create one between list and create
                    if error_code(exc) != KafkaError.TOPIC_ALREADY_EXISTS:
                        raise
        # creation returns before every broker's metadata has the topics: wait for them
        self._partitions_of(absent)

    def topic_settings(self, topics: Iterable[str]) -> dict[str, TopicSettings]:
        admin = self._admin()
        with self._reported("reading topic configurations"):
            metadata = admin.list_topics(timeout=self._timeout_s).topics
            present = sorted(set(metadata) & set(topics))
            if not present:
                return {}
            # describe_configs gives effective values, broker defaults included
            described = admin.describe_configs(
                [ConfigResource(ResourceType.TOPIC, name) for name in present],
                request_timeout=self._timeout_s,
            )
            configs = {resource.name: future.result() for resource, future in described.items()}
        return {
            topic: TopicSettings(
                topic,
                {n: str(configs[topic][n].value) for n in SETTING_NAMES if n in configs[topic]},
                min((len(p.replicas) for p in metadata[topic].partitions.values()), default=0),
            )
            for topic in present
        }

    def _partitions(self, topic: str) -> list[int]:
        return self._partitions_of([topic]).get(topic, [])

    def _partitions_of(self, topics: Iterable[str]) -> dict[str, list[int]]:
        """Partitions of each topic found; waits briefly for metadata of a topic just
        created. Asks for every topic's metadata at once: asking for one by name may
        create it."""
        wanted = list(dict.fromkeys(topics))
        admin = self._admin()
        deadline = time.monotonic() + self._timeout_s
        while True:
            with self._reported("reading the partitions of a topic"):
                metadata = admin.list_topics(timeout=self._timeout_s).topics
            found = {
                name: sorted(metadata[name].partitions)
                for name in wanted
                if name in metadata and metadata[name].error is None and metadata[name].partitions
            }
            if len(found) == len(wanted) or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def _tps(self, topics: Iterable[str]) -> list[KafkaTP]:
        return [KafkaTP(topic, p) for topic, ps in self._partitions_of(topics).items() for p in ps]

    # appends

    def append(self, records: Iterable[OutgoingRecord]) -> None:
        self._appender.append(records)

    @property
    def _timeout_s(self) -> float:
        return self._timeout_ms / 1000

    # offsets

    def _offsets(
        self, topics: Iterable[str], spec: OffsetSpec, committed_only: bool = False
    ) -> dict[KafkaTP, int]:
        tps = self._tps(topics)
        if not tps:
            return {}
        isolation = (
            IsolationLevel.READ_COMMITTED if committed_only else IsolationLevel.READ_UNCOMMITTED
        )

        def listed() -> dict[KafkaTP, int]:
            asked = self._admin().list_offsets(
                {tp: spec for tp in tps}, isolation_level=isolation, request_timeout=self._timeout_s
            )
            return {
                KafkaTP(tp.topic, tp.partition): int(f.result().offset) for tp, f in asked.items()
            }

        return self._retrying(listed)

    def _retrying(self, call: Callable[[], _T]) -> _T:
        """``call()``, again after an error the brokers call passing (a partition whose
        leader is still being elected, a coordinator not there yet), up to a time-out."""
        deadline = time.monotonic() + self._timeout_s
        while True:
            try:
                return call()
            except KafkaException as exc:
                if not passing(kafka_error(exc)) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def end_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        # high watermarks: they include the markers of transactions that just committed
        with self._reported("reading end offsets"):
            ends = self._offsets(topics, _LATEST)
        return {TopicPartition(tp.topic, tp.partition): o for tp, o in ends.items()}

    def open_transactions(self, topics: Iterable[str]) -> dict[TopicPartition, tuple[int, int]]:
        topics = list(topics)
        with self._reported("reading last stable offsets"):
            stable = self._offsets(topics, _LATEST, committed_only=True)
            high = self._offsets(topics, _LATEST)
        return {
            TopicPartition(tp.topic, tp.partition): (stable[tp], high[tp])
            for tp in stable
            if tp in high and stable[tp] < high[tp]
        }

    def start_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        with self._reported("reading log start offsets"):
            starts = self._offsets(topics, _EARLIEST)
        return {TopicPartition(tp.topic, tp.partition): o for tp, o in starts.items()}

    def committed(
        self, group: str, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        from confluent_kafka import ConsumerGroupTopicPartitions

        wanted = [KafkaTP(tp.topic, tp.partition) for tp in partitions]
        if not wanted:
            return {}

        def listed() -> list[KafkaTP]:
            request = [ConsumerGroupTopicPartitions(group, wanted)]
            future = self._admin().list_consumer_group_offsets(
                request, request_timeout=self._timeout_s
            )[group]
            return list(future.result().topic_partitions or [])

        # a new cluster creates its offsets topic (the coordinator) lazily: retried
        with self._reported(f"reading the offsets of group {group}"):
            listed_offsets = self._retrying(listed)
        # negative: the group has no offset on that partition
        return {
            TopicPartition(tp.topic, tp.partition): int(tp.offset)
            for tp in listed_offsets
            if tp.offset >= 0 and tp.error is None
        }

    def delete_records(self, before: Mapping[TopicPartition, int]) -> None:
        if not before:
            return
        with self._reported("deleting records"):
            deleted = self._admin().delete_records(
                [KafkaTP(tp.topic, tp.partition, offset) for tp, offset in before.items()],
                request_timeout=self._timeout_s,
            )
            _results(deleted.values())

    # reads

    def first_record_times(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        # read_uncommitted: the record a consumer waits on may belong to an open
        # transaction, and its record time is what the wait is measured from
        ranges = {tp: (starts[tp], ends[tp]) for tp in starts if tp in ends}
        found: dict[TopicPartition, int] = {}
        with self._reported("reading record times"):
            for record in read_ranges(self._reading(), ranges, committed_only=False, first=True):
                found[TopicPartition(record.topic, record.partition)] = record.timestamp_ms
        return found

    def scan(self, topics: Iterable[str]) -> Iterator[LogRecord]:
        ends = self.end_offsets(topics)
        if not ends:
            return
        # the log start as an offset, not OFFSET_BEGINNING: librdkafka resolves a
        # logical offset with a query that costs half a second per scan
        starts = self.start_offsets(_topics_of(ends))
        ranges = {tp: (starts.get(tp, 0), end) for tp, end in sorted(ends.items())}
        with self._reported("scanning"):
            yield from read_ranges(self._reading(), ranges, committed_only=True)

    def _partition_count(self, topic: str) -> int:
        return len(self._partitions(topic))

    def read_partition(
        self, tp: TopicPartition, start: int, end: int | None = None
    ) -> Iterator[LogRecord]:
        stop = self.end_offsets([tp.topic]).get(tp, 0) if end is None else end
        if start >= stop:
            return
        with self._reported(f"reading {tp.topic}[{tp.partition}]"):
            yield from read_ranges(self._reading(), {tp: (start, stop)}, committed_only=True)

    def _reading(self) -> dict[str, Any]:
        return {
            **client_config(self.bootstrap, self._security, "pdl-read"),
            "request.timeout.ms": self._timeout_ms,
        }

    def consumer(
        self, group: str | None, topics: Sequence[str], start: StartOffsets
    ) -> LogConsumer:
        config = client_config(self.bootstrap, self._security, f"pdl-{group or 'ungrouped'}")
        if group is None:
            return ConfluentLogConsumer(config, None, list(self.end_offsets(topics)), start)
        return ConfluentLogConsumer(config, group, list(topics), start)

    def close(self) -> None:
        self._appender.close()
        self._admin_client = None  # librdkafka closes a client when it is collected

    def _reported(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return reported(self.bootstrap, doing, self._security)

    def _admin(self) -> AdminClient:
        if self._admin_client is None:
            try:
                self._admin_client = AdminClient(
                    {
                        **client_config(self.bootstrap, self._security, "pdl-admin"),
                        "socket.timeout.ms": self._timeout_ms,
                    }
                )
            except KafkaException as exc:
                raise unreachable(self.bootstrap, cause(exc), self._security) from exc
        return self._admin_client


def _topics_of(ends: Mapping[TopicPartition, int]) -> list[str]:
    return sorted({tp.topic for tp in ends})


def _results(futures: Iterable[Future[Any]]) -> list[Any]:
    return [future.result() for future in futures]
