"""Reading the log on confluent-kafka (librdkafka): group consumers, groupless ranges,
and the client options every librdkafka client of the ledger shares (TLS, SASL, logs).

librdkafka's consumer reports a deleted offset as an error event, not an exception, and
the end of a partition as an event too (``enable.partition.eof``); both are turned into
what the port promises here: ``RecordsLost``, and reads that stop at their end offset.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message
from confluent_kafka import TopicPartition as KafkaTP

from ledger.log.base import (
    LogConsumer,
    LogError,
    LogRecord,
    RecordsLost,
    StartOffsets,
    TopicPartition,
    lost_records,
)
from ledger.log.kafka_security import FIX, KafkaSecurity, quiet_unless_verbose, unreachable

log = logging.getLogger(__name__)

#: librdkafka's own log lines, under the ``kafka`` logger that ``--kafka-log-level`` sets
LIBRDKAFKA_LOGGER = "kafka.librdkafka"

#: the consumer error events that mean "the offset asked for is not in the log"
_OUT_OF_RANGE = (KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE)


def client_config(bootstrap: str, security: KafkaSecurity, client_id: str) -> dict[str, Any]:
    """Options every client shares: the brokers, who we are, and ``KafkaSecurity`` in
    librdkafka's names (the same settings kafka-python's clients take)."""
    quiet_unless_verbose()
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "client.id": client_id,
        "logger": logging.getLogger(LIBRDKAFKA_LOGGER),
    }
    if security.protocol == "PLAINTEXT":
        return config
    config["security.protocol"] = security.protocol.lower()
    if security.uses_tls:
        # None: the system's CAs, which librdkafka finds by probing the usual paths
        config["ssl.ca.location"] = str(security.ca_file) if security.ca_file else "probe"
        config["ssl.endpoint.identification.algorithm"] = (
            "https" if security.check_hostname else "none"
        )
        if security.cert_file is not None:
            config["ssl.certificate.location"] = str(security.cert_file)
            if security.key_file is not None:
                config["ssl.key.location"] = str(security.key_file)
    if security.uses_sasl:
        config["sasl.mechanism"] = security.sasl_mechanism
        config["sasl.username"] = security.user
        config["sasl.password"] = security.password
    return config


#: errors that mean no broker could be talked to: down, unreachable, or refusing the
#: handshake (a wrong password or CA looks the same from here)
_UNREACHABLE = (
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._TIMED_OUT,
    KafkaError._AUTHENTICATION,
    KafkaError._SSL,
    KafkaError.SASL_AUTHENTICATION_FAILED,
)


@contextlib.contextmanager
def reported(bootstrap: str, doing: str, security: KafkaSecurity | None = None) -> Iterator[None]:
    """librdkafka's errors, raised as the port's ``LogError``; one that says no broker
    answered names what to check (``KafkaSecurity.fix``), as kafka-python's adapter does."""
    try:
        yield
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        no_broker = isinstance(error, KafkaError) and error.code() in _UNREACHABLE
        if security is not None and no_broker:
            raise unreachable(bootstrap, cause(exc), security) from exc
        raise LogError(f"{doing} on {bootstrap} failed: {cause(exc)}", FIX) from exc


def available(consumer: Consumer, most: int, timeout_s: float) -> list[Message]:
    """Up to ``most`` messages, as soon as there is one: librdkafka's ``consume`` waits
    for all ``most`` or the whole time-out, so it is asked only for what is already
    there once ``poll`` returned a first one."""
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    return [first, *consumer.consume(most - 1, 0)] if most > 1 else [first]


def record_of(message: Message) -> LogRecord:
    return LogRecord(
        str(message.topic()),
        int(message.partition() or 0),
        int(message.offset() or 0),
        bytes(message.key() or b""),
        bytes(message.value() or b""),
        int(message.timestamp()[1]),
    )


def read_ranges(
    config: Mapping[str, Any],
    ranges: Mapping[TopicPartition, tuple[int, int]],
    *,
    committed_only: bool,
    first: bool = False,
) -> Iterator[LogRecord]:
    """The records at offsets ``[start, end)`` of each partition, outside any group;
    with ``first``, only the first record of each. A start below the log start fails
    (``LogError``), except with ``first``, which reads from the oldest record left."""
    consumer = Consumer(
        {
            **config,
            "group.id": f"pdl-read-{uuid.uuid4().hex}",  # never joined: no subscribe
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            # a range ends on a transaction marker, passed only by a fetch that finds
            # nothing after it: the broker must not hold that fetch its usual 500 ms
            "fetch.wait.max.ms": 10,
            "isolation.level": "read_committed" if committed_only else "read_uncommitted",
            "auto.offset.reset": "earliest" if first else "error",
        }
    )
    ends = {KafkaTP(tp.topic, tp.partition): end for tp, (_, end) in ranges.items()}
    pending = {tp for tp, (start, end) in ranges.items() if start < end or start < 0}
    try:
        consumer.assign([KafkaTP(tp.topic, tp.partition, ranges[tp][0]) for tp in sorted(pending)])
        timeout_s = float(config.get("request.timeout.ms", 30_000)) / 1000
        deadline = time.monotonic() + timeout_s
        while pending:
            messages = available(consumer, 1000, 0.5)
            if messages:
                deadline = time.monotonic() + timeout_s
            elif time.monotonic() > deadline:
                raise LogError(f"reading {sorted(pending)[0]} stalled before its end", FIX)
            for message in messages:
                tp = TopicPartition(str(message.topic()), int(message.partition() or 0))
                if tp not in pending:
                    continue
                end = ends[KafkaTP(tp.topic, tp.partition)]
                error = message.error()
                if error is not None:
                    # the end of what is there: done once it reaches the range's end
                    # (past markers too), else a transaction is still open before it
                    if error.code() == KafkaError._PARTITION_EOF:
                        if int(message.offset() or 0) >= end:
                            pending.discard(tp)
                        continue
                    raise KafkaException(error)
                offset = int(message.offset() or 0)
                if offset < end:
                    yield record_of(message)
                if first or offset >= end - 1:
                    pending.discard(tp)
            _pause_done(consumer, ends, pending)
    finally:
        consumer.close()


def _pause_done(consumer: Consumer, ends: Mapping[KafkaTP, int], pending: set[Any]) -> None:
    done = [tp for tp in ends if TopicPartition(tp.topic, tp.partition) not in pending]
    if done:
        consumer.pause(done)


class ConfluentLogConsumer(LogConsumer):
    """A group member subscribed to topics, or (no group) the owner of given partitions."""

    def __init__(
        self,
        config: Mapping[str, Any],
        group: str | None,
        topics: Sequence[str] | Sequence[TopicPartition],
        start: StartOffsets,
    ) -> None:
        self._group = group
        self._bootstrap = str(config["bootstrap.servers"])
        self._start = start
        #: the next offset to read on each owned partition, as far as records told
        self._next: dict[TopicPartition, int] = {}
        with reported(self._bootstrap, "joining the topics"):
            self._consumer = Consumer(
                {
                    **config,
                    # librdkafka wants a group even to assign; one never joined is none
                    "group.id": group or f"pdl-ungrouped-{uuid.uuid4().hex}",
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    # never jump to what is left: a checkpoint below the log start means
                    # records were deleted unread, which the reader must be told (poll)
                    "auto.offset.reset": "error",
                    "isolation.level": "read_committed",
                    # the position passes a commit marker only with the next fetch,
                    # which the broker holds this long when nothing follows: a caught-up
                    # reader sees it is caught up within it
                    "fetch.wait.max.ms": 100,
                }
            )
            if group is None:
                owned = [tp for tp in topics if isinstance(tp, TopicPartition)]
                self._consumer.assign([self._started(tp) for tp in owned])
            else:
                names = [t for t in topics if isinstance(t, str)]
                self._consumer.subscribe(names, on_assign=self._assigned, on_revoke=self._revoked)

    def _started(self, tp: TopicPartition) -> KafkaTP:
        offset = self._start(tp)
        self._next[tp] = offset
        return KafkaTP(tp.topic, tp.partition, offset)

    def _assigned(self, consumer: Consumer, assigned: list[KafkaTP]) -> None:
        consumer.assign([self._started(TopicPartition(tp.topic, tp.partition)) for tp in assigned])

    def _revoked(self, consumer: Consumer, revoked: list[KafkaTP]) -> None:
        # state is checkpointed per batch; nothing pending to flush
        for tp in revoked:
            self._next.pop(TopicPartition(tp.topic, tp.partition), None)
        consumer.unassign()

    def poll(self, timeout_s: float, max_records: int = 500) -> list[LogRecord]:
        with reported(self._bootstrap, "polling"):
            messages = available(self._consumer, max_records, timeout_s)
        records: list[LogRecord] = []
        for message in messages:
            error = message.error()
            if error is None:
                record = record_of(message)
                self._next[TopicPartition(record.topic, record.partition)] = record.offset + 1
                records.append(record)
            elif error.code() in _OUT_OF_RANGE and message.topic() is not None:
                raise self._lost(
                    TopicPartition(str(message.topic()), int(message.partition() or 0))
                )
            elif error.fatal():
                raise LogError(f"polling {self._bootstrap} failed: {error.str()}", FIX)
            else:  # librdkafka retries by itself (a broker away, a leader moving)
                log.warning("consumer: %s", error.name())
        return records

    def _lost(self, tp: TopicPartition) -> LogError | RecordsLost:
        """What was deleted below the offset this consumer still needs."""
        needed = self._next.get(tp, self._start(tp))
        with reported(self._bootstrap, "reading the log start"):
            low, _ = self._consumer.get_watermark_offsets(
                KafkaTP(tp.topic, tp.partition), cached=False
            )
        lost = lost_records({tp: needed}, {tp: int(low)})
        if not lost:  # out of range above the end: not a deletion
            return LogError(f"polling {self._bootstrap}: offset {needed} of {tp} out of range")
        return RecordsLost(lost, f"consumer of group {self._group or '(none)'}")

    def positions(self) -> dict[TopicPartition, int]:
        with reported(self._bootstrap, "reading positions"):
            owned = self._consumer.position(self._consumer.assignment())
        found: dict[TopicPartition, int] = {}
        for ktp in owned:
            tp = TopicPartition(ktp.topic, ktp.partition)
            # negative: nothing fetched yet, so the position is where it was started
            found[tp] = max(int(ktp.offset), self._next.get(tp, 0))
        return found

    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        if not next_offsets or self._group is None:
            return
        try:
            self._consumer.commit(
                offsets=[KafkaTP(tp.topic, tp.partition, o) for tp, o in next_offsets.items()],
                asynchronous=False,
            )
        except KafkaException as exc:  # advisory: lag figures lag a little, state is safe
            log.warning("group offset commit failed: %s", cause(exc))

    def close(self) -> None:
        with reported(self._bootstrap, "closing a consumer"):
            self._consumer.close()


#: per-partition errors librdkafka does not flag retriable, though they pass by themselves
_PASSING = (
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,  # a topic just created, not yet on every broker
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.NOT_COORDINATOR,
)


def passing(error: KafkaError) -> bool:
    return bool(error.retriable()) or error.code() in _PASSING


def kafka_error(exc: KafkaException) -> KafkaError:
    error = exc.args[0] if exc.args else None
    return error if isinstance(error, KafkaError) else KafkaError(KafkaError._FAIL, str(exc))


def error_code(exc: KafkaException) -> int:
    return int(kafka_error(exc).code())


def cause(exc: BaseException) -> str:
    if isinstance(exc, KafkaException):
        return str(kafka_error(exc).str())
    return str(exc) or type(exc).__name__
