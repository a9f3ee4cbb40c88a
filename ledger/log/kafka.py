"""The Kafka adapter, on kafka-python.

This module creates and describes topics and reads offsets (an admin client per call,
one offsets reader kept open); appends are ``ledger.log.kafka_append``'s (transactional:
all-or-nothing per batch), reads ``ledger.log.kafka_reading``'s (committed records only).

Topics are created with explicit partition counts and the topic contract
(``ledger.log.kafka_topics``): nothing expires, record time is the broker's (LogAppendTime).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer
from kafka import TopicPartition as KafkaTP
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from ledger.log.base import (
    EventLog,
    LogConsumer,
    LogError,
    LogRecord,
    OutgoingRecord,
    StartOffsets,
    TopicPartition,
    TopicSettings,
)
from ledger.log.kafka_append import KafkaAppender
from ledger.log.kafka_reading import KafkaLogConsumer, RangeReader, reported
from ledger.log.kafka_security import (
    FIX,
    PLAINTEXT,
    KafkaSecurity,
    quiet_unless_verbose,
    unreachable,
)
from ledger.log.kafka_topics import SETTING_NAMES, new_topic_config, replication_of


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
        quiet_unless_verbose()
        self.bootstrap = bootstrap
        self._security = security
        # None: the cluster's broker count, up to 3 (``replication_of``)
        self._replication = replication_factor
        self._min_insync = min_insync_replicas
        self._timeout_ms = request_timeout_ms
        self._appender = KafkaAppender(
            bootstrap, security, transaction_timeout_ms, request_timeout_ms, max_block_ms
        )
        self._ranges = RangeReader(bootstrap, security, request_timeout_ms)
        self._offsets_reader: Any = None

    def ensure_topics(self, topics: Mapping[str, int], compacted: Iterable[str] = ()) -> None:
        compact = set(compacted)
        admin = self._admin()
        try:
            existing = set(admin.list_topics())
            absent = {name: n for name, n in topics.items() if name not in existing}
            if absent:
                replication, min_insync = replication_of(
                    self._replication,
                    self._min_insync,
                    lambda: len(admin.describe_cluster().get("brokers") or ()),
                )
                missing = [
                    NewTopic(
                        name,
                        num_partitions=n,
                        replication_factor=replication,
                        topic_configs=new_topic_config(name in compact, min_insync),
                    )
                    for name, n in absent.items()
                ]
                # another process may create one between list and create
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics(missing, wait_for_metadata=True)
        except KafkaError as exc:
            raise LogError(f"cannot create topics on {self.bootstrap}: {exc}", FIX) from exc
        finally:
            admin.close()

    def topic_settings(self, topics: Iterable[str]) -> dict[str, TopicSettings]:
        wanted = set(topics)
        admin = self._admin()
        try:
            with reported(self.bootstrap, "reading topic configurations"):
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
        return {
            topic: TopicSettings(
                topic,
                {
                    n: str(configs[topic][n]["value"])
                    for n in SETTING_NAMES
                    if n in configs.get(topic, {})
                },
                replicas.get(topic, 0),
            )
            for topic in present
        }

    def append(self, records: Iterable[OutgoingRecord]) -> None:
        self._appender.append(records)

    def end_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        reader = self._reader()
        with reported(self.bootstrap, "reading end offsets"):
            tps = [KafkaTP(topic, p) for topic in topics for p in self._partitions(reader, topic)]
            ends = reader.end_offsets(tps) if tps else {}
        return {TopicPartition(tp.topic, tp.partition): int(o) for tp, o in ends.items()}

    def open_transactions(self, topics: Iterable[str]) -> dict[TopicPartition, tuple[int, int]]:
        # the last stable offset is a read_committed reader's end offset; asked only when a
        # reader is stalled, so this reader is not kept open between calls
        reader = self._reader()
        with reported(self.bootstrap, "reading last stable offsets"):
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
        with reported(self.bootstrap, "reading log start offsets"):
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
            with reported(self.bootstrap, f"reading the offsets of group {group}"):
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
            with reported(self.bootstrap, "deleting records"):
                admin.delete_records(
                    {KafkaTP(tp.topic, tp.partition): offset for tp, offset in before.items()}
                )
        finally:
            admin.close()

    def first_record_times(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        return self._ranges.first_record_times(starts, ends)

    def scan(self, topics: Iterable[str]) -> Iterator[LogRecord]:
        ends = self.end_offsets(topics)
        if ends:
            yield from self._ranges.scan(ends)

    def _partition_count(self, topic: str) -> int:
        with reported(self.bootstrap, "reading the partitions of a topic"):
            return len(self._partitions(self._reader(), topic))

    def read_partition(
        self, tp: TopicPartition, start: int, end: int | None = None
    ) -> Iterator[LogRecord]:
        stop = self.end_offsets([tp.topic]).get(tp, 0) if end is None else end
        if start < stop:
            yield from self._ranges.read(tp, start, stop)

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
        self._appender.close()
        if self._offsets_reader is not None:
            self._offsets_reader.close()
            self._offsets_reader = None
        self._ranges.close()

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
            raise unreachable(self.bootstrap, str(exc), self._security) from exc

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
                raise unreachable(self.bootstrap, str(exc), self._security) from exc
        return self._offsets_reader
