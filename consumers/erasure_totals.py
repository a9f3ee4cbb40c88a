"""Erasures and retention shreds counted from the log, for the long-running exporter
(``pdl lag --serve``).

``pdl retention run`` and ``pdl erase`` carry out erasures in short-lived processes that
nobody scrapes, and a restarted ``pdl run`` starts its counters from 0. Every erasure
leaves a ``DataErased`` certificate on the erasure topic, so the totals are counted there
at scrape time: they survive restarts and count erasures whichever process made them.
A retention action is the case ``reason="retention_expiry"``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry, UndecodableMessage
from ledger.log.base import EventLog, TopicPartition

log = logging.getLogger(__name__)

NAME = "pdl_erasures_recorded"
HELP = (
    "DataErased certificates on the erasure topic, by reason and scope kind "
    "(reason retention_expiry: retention periods that ended)."
)


def erasure_families(totals: Counter[tuple[str, str]] | None = None) -> list[Any]:
    family = CounterMetricFamily(NAME, HELP, labels=["reason", "scope_kind"])
    for (reason, scope_kind), count in sorted((totals or Counter()).items()):
        family.add_metric([reason, scope_kind], count)
    return [family]


def count_erasures(
    log: EventLog, registry: SchemaRegistry, topics: Topics
) -> Counter[tuple[str, str]]:
    """``DataErased`` records on the erasure topic by (reason, scope kind): fixed words,
    never a subject. Records that cannot be decoded are not counted (``pdl certificates
    verify`` names them)."""
    totals: Counter[tuple[str, str]] = Counter()
    for record in log.scan([topics.erasure]):
        try:
            type_name, fields = registry.decode(record.value)
        except UndecodableMessage:
            continue
        if type_name == "DataErased":
            scope = fields.get("scope") or {}
            totals[(str(fields.get("reason")), str(scope.get("kind")))] += 1
    return totals


class ErasureTotalsCollector(Collector):
    """Counts at scrape time; rescans only when the erasure topic's end offsets moved."""

    def __init__(
        self,
        log: EventLog,
        registry: SchemaRegistry,
        topics: Topics,
        lock: threading.Lock | None = None,
    ) -> None:
        self._log = log
        self._registry = registry
        self._topics = topics
        # one log adapter, scraped from server threads: collectors sharing it share this
        self._lock = lock or threading.Lock()
        self._counted_at: dict[TopicPartition, int] | None = None
        self._totals: Counter[tuple[str, str]] = Counter()

    def describe(self) -> Iterable[Any]:
        return erasure_families()

    def collect(self) -> Iterable[Any]:
        with self._lock:
            try:
                ends = self._log.end_offsets([self._topics.erasure])
                if ends != self._counted_at:
                    self._totals = count_erasures(self._log, self._registry, self._topics)
                    self._counted_at = ends
            except Exception as exc:  # a scrape must not crash the server
                log.warning("erasures not counted", extra={"error": type(exc).__name__})
                return []
            return erasure_families(self._totals)
