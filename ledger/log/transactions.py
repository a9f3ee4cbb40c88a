"""What an append's transaction is given and how its failures read, whichever Kafka
client library runs it (kafka-python's ``ledger.log.kafka_append``, librdkafka's
``ledger.log.confluent_append``): both adapters size a transaction alike and word its
failures alike, so an operator sees one message and one fix per failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized

from ledger.log.base import LogError, OutgoingRecord
from ledger.log.kafka_security import FIX

#: The slowest rate, in records per second, an append's transaction time-out is sized
#: for: a fraction of what one producer sends on a small machine (about 10,000/s), so a
#: large batch is never aborted by the broker while it is still being sent.
SIZING_RECORDS_PER_S = 2_000

#: the brokers' default ceiling on a transaction time-out (transaction.max.timeout.ms)
_BROKER_MAX_TRANSACTION_S = 900


def transaction_ms_for(transaction_timeout_ms: int, records: Iterable[OutgoingRecord]) -> int:
    """The transaction time-out an append of ``records`` gets: the setting, plus the time
    a known number of records takes at the slowest sizing rate, so that the broker never
    aborts a large batch that is still being sent."""
    if not isinstance(records, Sized):
        return transaction_timeout_ms
    return transaction_timeout_ms + len(records) * 1000 // SIZING_RECORDS_PER_S


def batch_too_large(transaction_ms: int, transaction_timeout_ms: int, reason: str) -> LogError:
    """The brokers refused the transaction time-out a batch needs (``transaction_ms``,
    sized from the setting ``transaction_timeout_ms``)."""
    holds = (_BROKER_MAX_TRANSACTION_S - transaction_timeout_ms // 1000) * SIZING_RECORDS_PER_S
    return LogError(
        f"a batch this large needs a transaction of {transaction_ms // 1000}"
        f" s, longer than the brokers allow (transaction.max.timeout.ms,"
        f" {_BROKER_MAX_TRANSACTION_S} s by default): {reason}",
        "split the input into smaller files (each is one transaction; at the "
        f"sizing rate of {SIZING_RECORDS_PER_S:,} records/s, {_BROKER_MAX_TRANSACTION_S} s"
        f" holds about {holds:,} records), or raise transaction.max.timeout.ms on the brokers",
    )


def nothing_committed(bootstrap: str, reason: str, fix: str | None = FIX) -> LogError:
    """An append that failed before its commit: the transaction was aborted."""
    return LogError(f"append to {bootstrap} failed, nothing committed: {reason}", fix)
