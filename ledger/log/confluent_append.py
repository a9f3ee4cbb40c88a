"""Appends on confluent-kafka (librdkafka): one transaction of an idempotent producer
per ``EventLog.append``, with the outcomes of ``ledger.log.kafka_append``'s appends.

An error before the commit aborts (``LogError``: nothing committed); a commit the broker
refused as abortable is aborted too; a commit neither acknowledged nor refused is
``AppendOutcomeUnknown``. librdkafka bounds every wait itself (each call takes a
time-out), so no call needs a watchdog thread. Records go to the partition kafka-python
picks: librdkafka's default partitioner hashes with CRC32, so the producer is told to
use murmur2 (``MURMUR2``), and a subject's records stay in one partition whichever
client appended them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from ledger.log.base import AppendOutcomeUnknown, LogError, OutgoingRecord
from ledger.log.confluent_reading import cause, client_config, error_code, kafka_error
from ledger.log.kafka_security import KafkaSecurity, unreachable
from ledger.log.transactions import batch_too_large, nothing_committed, transaction_ms_for

#: librdkafka's partitioner that hashes keys as the Java client and kafka-python do
MURMUR2 = "murmur2_random"

#: Records queued between two polls for delivery reports. The producer reports failed
#: deliveries only, so a poll per record would cost a call into librdkafka for nothing;
#: a full local queue polls anyway, and the flush before the commit sees every report.
POLL_EVERY = 1_000


class TransactionalAppender:
    """The producer of one ``ConfluentEventLog``, made on its first append and replaced
    when its transaction state is unknown or its transaction time-out too short."""

    def __init__(
        self,
        bootstrap: str,
        security: KafkaSecurity,
        transaction_timeout_ms: int,
        request_timeout_ms: int,
        max_block_ms: int,
    ) -> None:
        self._bootstrap = bootstrap
        self._security = security
        self._transaction_timeout_ms = transaction_timeout_ms
        self._timeout_ms = request_timeout_ms
        self._max_block_ms = max_block_ms
        self._producer: Producer | None = None
        self._producer_timeout_ms = transaction_timeout_ms

    @property
    def _wait_s(self) -> float:
        """The longest an append waits for one step (delivery, commit, abort)."""
        return (self._max_block_ms + self._timeout_ms) / 1000

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(10)
            self._producer = None

    def append(self, records: Iterable[OutgoingRecord]) -> None:
        try:
            producer = self._transactional_producer(
                transaction_ms_for(self._transaction_timeout_ms, records)
            )
        except LogError as exc:
            raise nothing_committed(self._bootstrap, exc.message, exc.fix) from exc
        failed: list[KafkaError] = []

        def delivered(error: KafkaError | None, _message: object) -> None:
            if error is not None:
                failed.append(error)

        source = iter(records)
        callers: list[Exception] = []
        queued = 0
        try:
            producer.begin_transaction()
            while True:
                try:
                    record = next(source)
                except StopIteration:
                    break
                except Exception as exc:  # the records' own iterable failed
                    callers.append(exc)
                    raise
                self._produce(producer, record, delivered)
                queued += 1
                if queued % POLL_EVERY == 0:  # a failed delivery ends the batch early
                    producer.poll(0)
                    if failed:
                        break
            # every record acknowledged before the commit is asked for: until then any
            # error can still abort
            waiting = producer.flush(self._wait_s)
            if failed:
                raise KafkaException(failed[0])
            if waiting:
                raise LogError(f"{waiting} records not delivered in {self._wait_s:.0f} s")
        except Exception as exc:  # whatever failed, nothing was committed
            self._abort(producer)
            if callers:  # raised as it is: the caller's error, not the log's
                raise
            raise nothing_committed(self._bootstrap, cause(exc)) from exc
        self._commit(producer)

    def _commit(self, producer: Producer) -> None:
        """Commit, asking again after an error librdkafka calls retriable (the commit's
        outcome is then still to be learnt, from the same producer) while the wait lasts."""
        deadline = time.monotonic() + self._wait_s
        while True:
            try:
                producer.commit_transaction(max(0.1, deadline - time.monotonic()))
                return
            except KafkaException as exc:
                error = kafka_error(exc)
                if error.txn_requires_abort():  # refused before committing anything
                    self._abort(producer)
                    raise nothing_committed(self._bootstrap, cause(exc)) from exc
                if not error.retriable() or time.monotonic() > deadline:
                    self._discard_producer()
                    raise AppendOutcomeUnknown(self._bootstrap, cause(exc)) from exc
                time.sleep(0.1)
            except Exception as exc:  # the commit may or may not have happened
                self._discard_producer()
                raise AppendOutcomeUnknown(self._bootstrap, cause(exc)) from exc

    def _produce(self, producer: Producer, record: OutgoingRecord, delivered: Any) -> None:
        """Queue one record; a full local queue waits for deliveries (bounded)."""
        deadline: float | None = None
        while True:
            try:
                producer.produce(
                    record.topic, value=record.value, key=record.key, on_delivery=delivered
                )
                return
            except BufferError:
                if deadline is None:
                    deadline = time.monotonic() + self._wait_s
                elif time.monotonic() > deadline:
                    raise
                producer.poll(0.1)

    def _abort(self, producer: Producer) -> None:
        """Abort the open transaction, or drop the producer: a transaction never asked to
        commit is aborted by the broker after the transaction timeout."""
        deadline = time.monotonic() + self._wait_s
        while True:
            try:
                producer.abort_transaction(max(0.1, deadline - time.monotonic()))
                return
            except KafkaException as exc:
                # retriable (a broker coming back): the same call may still end it
                if kafka_error(exc).retriable() and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                self._discard_producer()  # unusable; a new one starts clean
                return
            except Exception:
                self._discard_producer()
                return

    def _transactional_producer(self, transaction_timeout_ms: int) -> Producer:
        if self._producer is not None and self._producer_timeout_ms < transaction_timeout_ms:
            self._discard_producer()
        if self._producer is None:
            # a record waits this long for its topic's metadata, then fails its batch
            metadata_ms = min(self._max_block_ms, transaction_timeout_ms)
            try:
                producer = Producer(
                    {
                        **client_config(self._bootstrap, self._security, "pdl-producer"),
                        "acks": "all",
                        "enable.idempotence": True,
                        "transactional.id": f"pdl-append-{uuid.uuid4()}",
                        "partitioner": MURMUR2,
                        "linger.ms": 5,
                        # a report for each failed record only: a batch's successes are
                        # known from the flush before its commit
                        "delivery.report.only.error": True,
                        "request.timeout.ms": self._timeout_ms,
                        "transaction.timeout.ms": transaction_timeout_ms,
                        # a record of a large batch may wait in the local queue behind the
                        # rest: only the transaction's time-out may fail it (librdkafka
                        # requires it within that time-out); flush and commit stay bounded
                        "message.timeout.ms": transaction_timeout_ms,
                        "topic.metadata.propagation.max.ms": metadata_ms,
                        # a record for a missing topic fails; it never creates the topic
                        "allow.auto.create.topics": False,
                    }
                )
                producer.init_transactions(self._wait_s)
            except KafkaException as exc:
                if error_code(exc) != KafkaError.INVALID_TRANSACTION_TIMEOUT:
                    raise unreachable(self._bootstrap, cause(exc), self._security) from exc
                raise batch_too_large(
                    transaction_timeout_ms, self._transaction_timeout_ms, cause(exc)
                ) from exc
            self._producer = producer
            self._producer_timeout_ms = transaction_timeout_ms
        return self._producer

    def _discard_producer(self) -> None:
        """Drop a producer whose transaction state is unknown; the next append starts a
        new one, under a new transactional id."""
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.purge()
            producer.flush(0)
