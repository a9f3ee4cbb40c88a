"""Lag of every consumer group the ledger runs, read from the offsets each group
committed to the log, for an exporter that outlives the consumers (``pdl lag --serve``).

``pdl run`` reports the lag of the partitions it owns (``pdl_consumer_lag_*``), so those
series vanish exactly when a consumer dies. The figures here come from the log alone:
while a group is down its committed offsets stand still, appends move the end offsets,
and ``pdl_group_lag_messages`` keeps rising, as Burrow and kafka-lag-exporter report it.
A partition the group never committed counts from offset 0 (everything is unread).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from consumers.lag import PartitionLag
from ledger.log.base import EventLog

log = logging.getLogger(__name__)

_FAMILIES = (
    ("pdl_group_committed_offset", "The next offset the group committed to the log."),
    ("pdl_group_end_offset", "The log's end offset (next offset to be written)."),
    ("pdl_group_lag_messages", "End offset minus the group's committed offset."),
    (
        "pdl_group_lag_seconds",
        "Now minus the record time of the oldest record the group has not committed; "
        "0 when caught up.",
    ),
)


def measure_group(
    log: EventLog, group: str, topics: Iterable[str], clock: Callable[[], float] = time.time
) -> list[PartitionLag]:
    """The lag of ``group`` on every partition of ``topics``, from the log's committed
    offsets (not the projection store's checkpoints: those are the consumer's own)."""
    ends = log.end_offsets(topics)
    committed = log.committed(group, ends)
    held = {tp: min(committed.get(tp, 0), end) for tp, end in ends.items()}
    behind = {tp: offset for tp, offset in held.items() if offset < ends[tp]}
    first_ms = log.first_record_times(behind, ends) if behind else {}
    now = clock()
    return [
        PartitionLag(
            group,
            tp.topic,
            tp.partition,
            held[tp],
            end,
            end - held[tp],
            max(0.0, now - first_ms[tp] / 1000) if tp in first_ms else 0.0,
        )
        for tp, end in sorted(ends.items())
    ]


def group_lag_families(lags: Sequence[PartitionLag] = ()) -> list[GaugeMetricFamily]:
    return lag_families(lags, _FAMILIES)


def lag_families(
    lags: Sequence[PartitionLag], names: Sequence[tuple[str, str]]
) -> list[GaugeMetricFamily]:
    """The four lag gauges (committed, end, messages, seconds) named ``names``, one sample
    per group/topic/partition: the store's view (``pdl run``) and the log's (exporter)."""
    labels = ["group", "topic", "partition"]
    families = [GaugeMetricFamily(n, h, labels=labels) for n, h in names]
    for lag in lags:
        values = [lag.group, lag.topic, str(lag.partition)]
        figures = (lag.committed, lag.end, lag.lag_messages, lag.lag_seconds)
        for family, figure in zip(families, figures, strict=True):
            family.add_metric(values, figure)
    return families


class GroupLagCollector(Collector):
    """Measures every group in ``groups`` (group → the topics it consumes) at scrape time.
    A group that cannot be measured is left out of that scrape and logged."""

    def __init__(
        self,
        log: EventLog,
        groups: Mapping[str, Sequence[str]],
        clock: Callable[[], float] = time.time,
        lock: threading.Lock | None = None,
    ) -> None:
        self._log = log
        self._groups = dict(groups)
        self._clock = clock
        # one log adapter, scraped from server threads: collectors sharing it share this
        self._lock = lock or threading.Lock()

    def describe(self) -> Iterable[Any]:
        return group_lag_families()

    def collect(self) -> Iterable[Any]:
        lags: list[PartitionLag] = []
        with self._lock:
            for group, topics in self._groups.items():
                try:
                    lags += measure_group(self._log, group, topics, self._clock)
                except Exception as exc:  # a scrape must not crash the server
                    log.warning(
                        "group lag not measured",
                        extra={"group": group, "error": type(exc).__name__},
                    )
        return group_lag_families(lags)
