"""How far a consumer group is behind the log, per partition, in messages and in seconds.

One computation serves ``pdl lag`` and the ``pdl_consumer_lag_*`` metrics:

- *committed* is the group's checkpoint in the projection store (the source of truth:
  where a restarted consumer resumes). The runner commits the same offsets to Kafka's
  group after each batch, so Kafka's own tools show the same figure, unless that
  advisory commit failed or the projection store was reset since.
- *end* is the log's end offset (Kafka's high watermark, transaction markers included,
  as ``kafka-consumer-groups.sh`` shows it).
- *lag in messages* is ``end - committed`` (never negative).
- *lag in seconds* is now minus the record time of the oldest record not yet applied
  (the first record at or after *committed*), and 0 when caught up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from consumers.store import ProjectionStore
from ledger.log.base import EventLog, TopicPartition

Clock = Callable[[], float]


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    lag_messages: int
    lag_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LagProbe:
    """Measures a group's lag. Not thread-safe: give each thread its own, or a lock."""

    def __init__(self, log: EventLog, store: ProjectionStore, clock: Clock = time.time) -> None:
        self._log = log
        self._store = store
        self._clock = clock

    def measure(
        self,
        group: str,
        topics: Iterable[str],
        only: Collection[TopicPartition] | None = None,
    ) -> list[PartitionLag]:
        """Every partition of ``topics`` (or those in ``only``), sorted."""
        ends = self._log.end_offsets(topics)
        if only is not None:
            ends = {tp: end for tp, end in ends.items() if tp in only}
        checkpoints = self._store.checkpoints(group)
        committed = {tp: min(checkpoints.get(tp, 0), end) for tp, end in ends.items()}
        behind = {tp: c for tp, c in committed.items() if c < ends[tp]}
        first_ms = self._log.first_record_times(behind, ends) if behind else {}
        now = self._clock()
        return [
            PartitionLag(
                group,
                tp.topic,
                tp.partition,
                committed[tp],
                end,
                end - committed[tp],
                max(0.0, now - first_ms[tp] / 1000) if tp in first_ms else 0.0,
            )
            for tp, end in sorted(ends.items())
        ]

    def close(self) -> None:
        """Nothing of its own to release: the log and store belong to the caller."""
