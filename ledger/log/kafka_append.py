"""Appends on kafka-python: one transaction of an idempotent producer (``acks=all``) per
``EventLog.append``, so a batch from ``pdl emit`` is all-or-nothing on the broker too.

An append returns only once its commit was acknowledged, within bounded waits: an error
before the commit aborts (``LogError``: nothing committed), an error or a time-out during
it is ``AppendOutcomeUnknown``. A transaction its producer abandoned (a killed
``pdl emit``) is aborted by the broker after ``transaction_timeout_ms``, which the ledger
sets short, so readers behind it wait seconds, not the client's default minute. A batch
is sent in windows, each acknowledged before the next is sent: the producer holds a few
MiB of a batch at a time, whatever its length, and the transaction stays one.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from kafka import KafkaProducer
from kafka.errors import InvalidTransactionTimeoutError, KafkaError

from ledger.log.base import AppendOutcomeUnknown, LogError, OutgoingRecord
from ledger.log.kafka_security import FIX, KafkaSecurity, unreachable
from ledger.log.transactions import batch_too_large, nothing_committed, transaction_ms_for

#: Records, or bytes of keys and values, an append sends before it waits for them to be
#: acknowledged: the most the producer's buffer holds of one batch (a few MiB), and one
#: pause of a round trip per window, a few milliseconds in seconds of sending.
WINDOW_RECORDS = 10_000
WINDOW_BYTES = 8 << 20

#: The producer's batch per partition. Its idempotence keeps one request in flight per
#: partition, so a partition moves at most one batch per round trip: kafka-python's
#: default of 16 KiB (about 40 records) caps a partition far below what the client
#: library can encode; 512 KiB is half the brokers' default message.max.bytes.
BATCH_BYTES = 512 << 10

#: kafka-python's sender waits this long between the steps of a transactional request
#: it has queued (finding the coordinator, then asking it), not only between retries:
#: its default of 100 ms costs a new producer 0.2 s, and 0.1 s to a transaction that
#: must ask again to add its partitions while the broker still ends the one before.
RETRY_BACKOFF_MS = 20


class KafkaAppender:
    """The producer of one ``KafkaEventLog``, made on its first append and replaced when
    its transaction state is unknown or its transaction time-out too short."""

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
        self._producer: Any = None
        self._producer_timeout_ms = transaction_timeout_ms

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None

    def append(self, records: Iterable[OutgoingRecord]) -> None:
        try:
            producer = self._transactional_producer(
                transaction_ms_for(self._transaction_timeout_ms, records)
            )
        except LogError as exc:
            raise nothing_committed(self._bootstrap, exc.message, exc.fix) from exc
        try:
            producer.begin_transaction()
            window: list[Any] = []  # the futures of the records sent since the last wait
            window_bytes = 0
            for record in _callers(records):
                window.append(producer.send(record.topic, key=record.key, value=record.value))
                window_bytes += len(record.key) + len(record.value)
                if len(window) >= WINDOW_RECORDS or window_bytes >= WINDOW_BYTES:
                    self._deliver(producer, window)
                    window, window_bytes = [], 0
            # every record acknowledged before the commit is asked for: until then any
            # error, the client library's own state errors included, can still abort
            self._deliver(producer, window)
        except _CallersError as exc:  # the records' own iterable failed: nothing committed
            self._abort(producer)
            raise exc.error from exc.error.__cause__
        except Exception as exc:  # whatever failed, nothing was committed
            self._abort(producer)
            raise nothing_committed(self._bootstrap, _cause(exc)) from exc
        try:
            self._within("committing the batch", producer.commit_transaction)
        except Exception as exc:  # the commit may or may not have happened
            self._discard_producer()
            raise AppendOutcomeUnknown(self._bootstrap, _cause(exc)) from exc

    def _deliver(self, producer: Any, window: list[Any]) -> None:
        """Wait until the records of ``window`` (their futures) are acknowledged, or
        raise the first one's failure. kafka-python's buffer has no bound of its own: an
        append that sends faster than the broker acknowledges would hold the rest of a
        batch of millions in memory, and its records would wait there, ageing, towards
        their delivery time-out."""
        self._within("delivering the batch", producer.flush)
        for future in window:
            if not future.is_done:  # moved to a batch split after the flush began
                self._within("delivering the batch", future.get)  # raises its failure
            elif future.failed():
                raise future.exception

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
            raise LogError(f"{doing} on {self._bootstrap}: no answer in {waited_s:.0f} s", FIX)
        if failure:
            raise failure[0]

    def _abort(self, producer: Any) -> None:
        """Abort the open transaction, or drop the producer: a transaction never asked to
        commit is aborted by the broker after the transaction timeout."""
        try:
            self._within("aborting the batch", producer.abort_transaction)
        except Exception:  # the producer is unusable; a new one starts clean
            self._discard_producer()

    def _transactional_producer(self, transaction_timeout_ms: int) -> Any:
        """The producer, with a transaction time-out of at least the one asked for (a
        longer one replaces it: a time-out is fixed when a producer starts)."""
        if self._producer is not None and self._producer_timeout_ms < transaction_timeout_ms:
            self._discard_producer()
        if self._producer is None:
            try:
                producer = KafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    **self._security.client_options(),
                    client_id="pdl-producer",
                    acks="all",
                    enable_idempotence=True,
                    transactional_id=f"pdl-append-{uuid.uuid4()}",
                    linger_ms=5,
                    batch_size=BATCH_BYTES,
                    retry_backoff_ms=RETRY_BACKOFF_MS,
                    request_timeout_ms=self._timeout_ms,
                    bootstrap_timeout_ms=self._timeout_ms,
                    max_block_ms=self._max_block_ms,
                    # a record of a large batch waits in the producer's buffer behind
                    # the rest (32 MB: seconds on a loaded host) before it is sent, so
                    # only the transaction's own time-out may fail it; the waits for a
                    # flush and a commit stay bounded by ``_within``
                    delivery_timeout_ms=max(self._timeout_ms + 1_000, transaction_timeout_ms),
                    transaction_timeout_ms=transaction_timeout_ms,
                )
                producer.init_transactions()
            except KafkaError as exc:
                if not _transaction_too_long(exc):
                    raise unreachable(self._bootstrap, str(exc), self._security) from exc
                raise batch_too_large(
                    transaction_timeout_ms, self._transaction_timeout_ms, str(exc)
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
