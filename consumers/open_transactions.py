"""Why a reader is stalled when the log is up: an open transaction it cannot read past.

A committed-only reader (Kafka's ``read_committed``) stops at a partition's last stable
offset, the first record of the oldest transaction still open there, until that
transaction's producer commits or aborts it, or the broker aborts it after the producer's
transaction timeout. A ``pdl emit`` killed mid-append leaves one behind for
``PDL_TRANSACTION_TIMEOUT`` (20 s by default); a foreign producer may hold one up to the
broker's ``transaction.max.timeout.ms`` (15 min by default). Without this the reader only
says it "made no progress".
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.log.base import EventLog, TopicPartition

#: how long a reader waits before it says, in a log line, what it waits on
TELL_AFTER_S = 5.0


@dataclass(frozen=True)
class HeldPartition:
    """A partition a reader waits on, held by an open transaction from ``stable_offset``."""

    partition: TopicPartition
    stable_offset: int
    high_watermark: int
    #: record time (ms) of the open transaction's first record; None if not readable
    since_ms: int | None


def held_partitions(
    log: EventLog, positions: Mapping[TopicPartition, int], targets: Mapping[TopicPartition, int]
) -> list[HeldPartition]:
    """The partitions whose reader sits at the stable offset, short of its ``targets``,
    behind a transaction still open."""
    held = {
        tp: span
        for tp, span in log.open_transactions(sorted({tp.topic for tp in targets})).items()
        if tp in positions and span[0] <= positions[tp] < targets.get(tp, 0)
    }
    if not held:
        return []
    since = log.first_record_times(
        {tp: stable for tp, (stable, _) in held.items()},
        {tp: high for tp, (_, high) in held.items()},
    )
    return [
        HeldPartition(tp, stable, high, since.get(tp))
        for tp, (stable, high) in sorted(held.items())
    ]


def waiting_on(held: list[HeldPartition], now_s: float | None = None) -> str:
    """What the reader waits on, and until when, in one sentence."""
    now_ms = int((time.time() if now_s is None else now_s) * 1000)
    spans = "; ".join(_span(h, now_ms) for h in held)
    return (
        f"it waits on an open transaction ({spans}): committed records after it cannot be "
        "read until its producer commits or aborts it, or the broker aborts it after the "
        "producer's transaction timeout (PDL_TRANSACTION_TIMEOUT, 20 s by default, for "
        "pdl's own producers; up to the broker's transaction.max.timeout.ms, 15 min by "
        "default, for any other producer)"
    )


def _span(held: HeldPartition, now_ms: int) -> str:
    where = f"{held.partition.topic}[{held.partition.partition}] from offset {held.stable_offset}"
    if held.since_ms is None:
        return where
    opened = datetime.fromtimestamp(held.since_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{where}, open since {opened} ({max(0, now_ms - held.since_ms) // 1000} s)"


def abort_fix(held: list[HeldPartition]) -> str:
    """The operator's way out: wait, or find the producer and abort its transaction."""
    first = held[0]
    topic, partition = first.partition.topic, first.partition.partition
    tool = "kafka-transactions.sh --bootstrap-server <host:port>"
    return (
        "wait for the broker to abort it, then retry; or find its producer with "
        f"`{tool} describe-producers --topic {topic} --partition {partition}` (or `{tool} "
        "list`, then `describe --transactional-id <id>`) and abort it with "
        f"`{tool} abort --topic {topic} --partition {partition} --start-offset "
        f"{first.stable_offset}` (once per partition listed)"
    )
