"""Prometheus metrics for ``pdl run``: an observer of the consumer loop, and collectors.

Every metric is named ``pdl_…`` with its unit; labels are group, topic, partition,
event type, reason class, scope kind or action — never a subject id nor anything
personal. Dead-letter reasons are free text, so they are counted by a small fixed set
of classes (``REASON_CLASSES``).

Lag (``pdl_consumer_*``, ``pdl_log_end_offset``) is computed when Prometheus scrapes,
by ``consumers.lag.LagProbe``, the same computation ``pdl lag`` prints. The scrape runs
in the HTTP server's threads: the collector has its own log and store handles (opened
by the caller, ``ledger.service.monitoring``) and a lock.

Appends and rejections are not counted here: they happen in ``pdl emit``, a process too
short-lived to scrape. Appended events are counted by type when consumed
(``pdl_events_consumed_total``); rejections are printed by ``pdl emit``, which exits 1.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, Info
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from consumers.lag import LagProbe, PartitionLag
from consumers.observe import Observer
from ledger import __version__
from ledger.contract.events import EVENT_TYPES
from ledger.contract.wire import UNKNOWN_WRITER
from ledger.log.base import LogRecord, TopicPartition
from projections.base import Recorded

log = logging.getLogger(__name__)

#: Latency buckets (seconds) for a batch's fold and for its SQLite commit (an fsync).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

#: Dead-letter reason classes, in the order ``reason_class`` tries them.
REASON_CLASSES = (
    *("not_avro", "unknown_schema", "corrupt_body"),
    *("invalid_event", "key_mismatch", "other"),
)

EVENTS_CONSUMED = Counter(
    "pdl_events_consumed",
    "Events applied to the projections, by event type (each appended event, once).",
    ["group", "type"],
)
DEAD_LETTERS = Counter(
    "pdl_dead_letters",
    "Records sent to the dead-letter topic, by reason class.",
    ["group", "reason"],
)
APPLY_SECONDS = Histogram(
    "pdl_projection_apply_seconds",
    "Time to fold one batch into the projections, before its commit.",
    ["group"],
    buckets=LATENCY_BUCKETS,
)
COMMIT_SECONDS = Histogram(
    "pdl_checkpoint_commit_seconds",
    "Time to commit one batch's states and checkpoints (one SQLite transaction).",
    ["group"],
    buckets=LATENCY_BUCKETS,
)
BUILD = Info("pdl_build", "The running pdl: pdl_build_info{version} is 1.")
BUILD.info({"version": __version__})

ERASURES = Counter("pdl_erasures", "Erasures carried out, by scope kind.", ["scope_kind"])
"""Erasures carried out (keys shredded for a request), by scope kind.

Incremented by the erasure processor (``consumers/erasure.py``):
``ERASURES.labels(scope_kind=...).inc()``; the scope kind is a fixed word, never the
subject or the request id."""

RETENTION_ACTIONS = Counter(
    "pdl_retention_actions", "Retention actions taken when a period ends, by action.", ["action"]
)
"""Retention actions taken (e.g. ``shred``, ``hold_kept``), by action.

Incremented by the erasure processor (``consumers/erasure.py``):
``RETENTION_ACTIONS.labels(action=...).inc()``."""

ERASURE_BACKLOG_OVERDUE = Gauge(
    "pdl_erasure_backlog_overdue", "Erasure requests not carried out by their deadline."
)
"""Erasure requests pending past their deadline (``ErasureRequested`` not yet followed
by ``DataErased`` when its deadline is past): the ``PdlErasureBacklogOverdue`` alert
fires when it is above 0. Set by the erasure processor (``consumers/erasure.py``) with
``ERASURE_BACKLOG_OVERDUE.set(n)`` after each batch it handles."""


_METRICS: tuple[MetricWrapperBase, ...] = (
    *(EVENTS_CONSUMED, DEAD_LETTERS, APPLY_SECONDS, COMMIT_SECONDS, BUILD),
    *(ERASURES, RETENTION_ACTIONS, ERASURE_BACKLOG_OVERDUE),
)


def reason_class(reason: str) -> str:
    """The fixed class of a free-text dead-letter reason (see ``consumers/decode.py``)."""
    if reason.startswith("not Avro"):
        return "not_avro"
    if (
        reason.startswith(UNKNOWN_WRITER)
        or reason.startswith("no reader schema")
        or reason.endswith("is not an event type")
    ):
        return "unknown_schema"
    if reason.startswith(("corrupt Avro body", "trailing bytes", "Avro body is not")):
        return "corrupt_body"
    if reason.startswith("invalid event"):
        return "invalid_event"
    if reason.startswith("message key is not"):
        return "key_mismatch"
    return "other"


class MetricsObserver(Observer):
    """Counts what the consumer loop applies and remembers which partitions it owns."""

    def __init__(self, group: str) -> None:
        for type_name in EVENT_TYPES:  # every series exists from 0, so increase() sees the first
            EVENTS_CONSUMED.labels(group, type_name)
        for reason in REASON_CLASSES:
            DEAD_LETTERS.labels(group, reason)
        APPLY_SECONDS.labels(group)
        COMMIT_SECONDS.labels(group)
        self._lock = threading.Lock()
        self._owned: frozenset[TopicPartition] | None = None

    def batch_applied(
        self,
        group: str,
        outcomes: Sequence[tuple[LogRecord, Recorded | str]],
        apply_seconds: float,
        commit_seconds: float,
    ) -> None:
        for _, outcome in outcomes:
            if isinstance(outcome, Recorded):
                EVENTS_CONSUMED.labels(group, type(outcome.event).__name__).inc()
            else:
                DEAD_LETTERS.labels(group, reason_class(outcome)).inc()
        APPLY_SECONDS.labels(group).observe(apply_seconds)
        COMMIT_SECONDS.labels(group).observe(commit_seconds)

    def positions(self, group: str, positions: Mapping[TopicPartition, int]) -> None:
        with self._lock:
            self._owned = frozenset(positions)

    def owned(self) -> frozenset[TopicPartition] | None:
        """The partitions this consumer owned at its last poll; None before its first."""
        with self._lock:
            return self._owned


_LAG_FAMILIES = (
    ("pdl_consumer_committed_offset", "The group's checkpoint: the next offset to apply."),
    ("pdl_log_end_offset", "The partition's end offset (high watermark)."),
    ("pdl_consumer_lag_messages", "End offset minus committed offset."),
    (
        "pdl_consumer_lag_seconds",
        "Now minus the record time of the oldest record not yet applied; 0 when caught up.",
    ),
)


class LagCollector(Collector):
    """Lag of the partitions this consumer owns, measured at scrape time."""

    def __init__(
        self,
        probe: LagProbe,
        group: str,
        topics: Iterable[str],
        owned: MetricsObserver | None = None,
    ) -> None:
        self._probe = probe
        self._group = group
        self._topics = list(topics)
        self._owned = owned
        self._lock = threading.Lock()

    def describe(self) -> Iterable[Any]:
        return _lag_families([])

    def collect(self) -> Iterable[Any]:
        only: Collection[TopicPartition] | None = None
        if self._owned is not None:
            only = self._owned.owned()
            if only is None:  # not yet assigned: nothing to report
                return _lag_families([])
        try:
            with self._lock:
                lags = self._probe.measure(self._group, self._topics, only)
        except Exception as exc:  # a scrape must not crash the server; lag goes absent
            log.warning("lag not measured: %s: %s", type(exc).__name__, exc)
            lags = []
        return _lag_families(lags)

    def close(self) -> None:
        with self._lock:
            self._probe.close()


def _lag_families(lags: list[PartitionLag]) -> list[GaugeMetricFamily]:
    labels = ["group", "topic", "partition"]
    families = [GaugeMetricFamily(n, h, labels=labels) for n, h in _LAG_FAMILIES]
    for lag in lags:
        values = [lag.group, lag.topic, str(lag.partition)]
        figures = (lag.committed, lag.end, lag.lag_messages, lag.lag_seconds)
        for family, figure in zip(families, figures, strict=True):
            family.add_metric(values, figure)
    return families


class KeyStoreCollector(Collector):
    """``pdl_keystore_keys``: data keys in the key store file, read-only, at scrape time.

    Absent when the file is not on this host (a consumer need not hold the key store)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def describe(self) -> Iterable[Any]:
        return [_keystore_family()]

    def collect(self) -> Iterable[Any]:
        family = _keystore_family()
        if self._path.exists():
            try:
                db = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=5)
                try:
                    (count,) = db.execute("SELECT COUNT(*) FROM data_keys").fetchone()
                finally:
                    db.close()
                family.add_metric([], int(count))
            except sqlite3.Error as exc:
                log.warning("key store not counted: %s", exc)
        return [family]


def _keystore_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "pdl_keystore_keys", "Data keys in the key store (one per subject and retention class)."
    )


def exported_names() -> set[str]:
    """The name of every series ``pdl run`` can export (``_total``, ``_bucket`` included)."""
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_sum", "_count"),
        "info": ("_info",),
    }
    families = [f for metric in _METRICS for f in metric.describe()]
    families += [*_lag_families([]), _keystore_family()]
    return {f.name + suffix for f in families for suffix in suffixes.get(f.type, ("",))}
