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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram, Info
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from consumers.admission import POLICY_REFUSED
from consumers.decode import UNSEALED
from consumers.erasure_totals import erasure_families
from consumers.group_lag import group_lag_families, lag_families
from consumers.lag import LagProbe
from consumers.observe import Observer
from consumers.outage import LOOPS, LogHealth
from consumers.store import ProjectionStore
from ledger import __version__
from ledger.contract.events import EVENT_TYPES
from ledger.contract.families.requests import RequestKind
from ledger.contract.wire import UNKNOWN_WRITER
from ledger.log.base import LogRecord, TopicPartition
from ledger.policy.catalog import Catalogs
from ledger.policy.requests import request_due
from projections.base import Recorded
from projections.requests import RequestsProjection

log = logging.getLogger(__name__)

#: Latency buckets (seconds) for a batch's fold and for its SQLite commit (an fsync).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

#: Dead-letter reason classes, in the order ``reason_class`` tries them.
REASON_CLASSES = (
    *("not_avro", "unknown_schema", "corrupt_body"),
    *("invalid_event", "key_mismatch", "unsealed", "foreign_key", "policy", "other"),
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


class LastMeasured:
    """A figure a loop measures and a collector exports when scraped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: float | None = None

    def set(self, value: float) -> None:
        with self._lock:
            self._value = value

    def get(self) -> float | None:
        with self._lock:
            return self._value


ERASURE_BACKLOG_OVERDUE = LastMeasured()
"""Erasure requests pending past their deadline (``ErasureRequested`` not yet followed
by ``DataErased`` when its one-month deadline is past), set by the erasure processor
(``consumers/erasure.py``) after each pass with ``ERASURE_BACKLOG_OVERDUE.set(n)``.
Exported as one case of ``pdl_requests_overdue``: kind ``erasure``, source
``erasure_processor`` (``RequestsOverdueCollector``)."""


_METRICS: tuple[MetricWrapperBase, ...] = (
    *(EVENTS_CONSUMED, DEAD_LETTERS, APPLY_SECONDS, COMMIT_SECONDS, BUILD),
    *(ERASURES, RETENTION_ACTIONS),
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
    if reason.startswith("personal field"):
        # plaintext on a topic (a producer that bypassed the ledger) is an incident of its
        # own; a sealed value under another subject's key is a mis-sealing
        return "unsealed" if UNSEALED in reason else "foreign_key"
    if reason.startswith(POLICY_REFUSED):
        return "policy"
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
        return lag_families([], _LAG_FAMILIES)

    def collect(self) -> Iterable[Any]:
        only: Collection[TopicPartition] | None = None
        if self._owned is not None:
            only = self._owned.owned()
            if only is None:  # not yet assigned: nothing to report
                return lag_families([], _LAG_FAMILIES)
        try:
            with self._lock:
                lags = self._probe.measure(self._group, self._topics, only)
        except Exception as exc:  # a scrape must not crash the server; lag goes absent
            log.warning("lag not measured: %s: %s", type(exc).__name__, exc)
            lags = []
        return lag_families(lags, _LAG_FAMILIES)

    def close(self) -> None:
        with self._lock:
            self._probe.close()


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


class LogHealthCollector(Collector):
    """Whether each loop of this process reached the log when it last tried
    (``pdl_log_reachable``), and how long since it last did
    (``pdl_log_seconds_since_success``): an outage shows here while ``pdl run`` waits."""

    def __init__(self, loops: Mapping[str, LogHealth] = LOOPS) -> None:
        self._loops = loops

    def describe(self) -> Iterable[Any]:
        return _health_families()

    def collect(self) -> Iterable[Any]:
        reachable, since = _health_families()
        for name, health in sorted(self._loops.items()):
            reachable.add_metric([name], 1 if health.reachable else 0)
            since.add_metric([name], health.seconds_since_success())
        return [reachable, since]


def _health_families() -> list[GaugeMetricFamily]:
    return [
        GaugeMetricFamily(
            "pdl_log_reachable",
            "1 if the loop reached the log when it last tried, 0 during an outage.",
            labels=["loop"],
        ),
        GaugeMetricFamily(
            "pdl_log_seconds_since_success",
            "Seconds since the loop last polled or probed the log successfully.",
            labels=["loop"],
        ),
    ]


class RequestsOverdueCollector(Collector):
    """``pdl_requests_overdue{kind, source}``: requests from people past their deadline
    (Art. 12(3)), by kind, measured at scrape time. Source ``requests``: open requests
    of the requests projection (``projections/requests.py``) whose one-month deadline
    (three once extended), in the controller's time zone, has passed. Source
    ``erasure_processor``: the erasure backlog, kind ``erasure``. The two overlap (a
    person's erasure request usually becomes an ``ErasureRequested``): alert on their
    maximum by kind, never their sum."""

    def __init__(
        self,
        store: ProjectionStore,
        catalogs: Callable[[], Catalogs],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._catalogs = catalogs
        self._clock = clock
        self._lock = threading.Lock()

    def describe(self) -> Iterable[Any]:
        return [_requests_overdue_family()]

    def collect(self) -> Iterable[Any]:
        family = _requests_overdue_family()
        counts = dict.fromkeys((k.value for k in RequestKind), 0)
        try:
            with self._lock:
                now, catalogs = self._clock(), self._catalogs()
                projection = RequestsProjection()
                for _, text in self._store.states(projection.name):
                    state = projection.load(text)
                    if state.received_at is None or state.closed is not None:
                        continue
                    extended = state.extended_reason is not None
                    due = request_due(catalogs, state.controller, state.received_at, extended)
                    if due <= now and state.kind in counts:
                        counts[state.kind] += 1
        except Exception as exc:  # a scrape must not crash the server; the series go absent
            log.warning("requests past due not measured: %s: %s", type(exc).__name__, exc)
            counts = {}
        for kind, n in sorted(counts.items()):
            family.add_metric([kind, "requests"], n)
        backlog = ERASURE_BACKLOG_OVERDUE.get()
        if backlog is not None:
            family.add_metric(["erasure", "erasure_processor"], backlog)
        return [family]


def _requests_overdue_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "pdl_requests_overdue",
        "Requests from people past their Art. 12(3) deadline, by kind and source.",
        labels=["kind", "source"],
    )


def exported_names() -> set[str]:
    """The name of every series ``pdl run`` can export (``_total``, ``_bucket`` included)."""
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_sum", "_count"),
        "info": ("_info",),
    }
    families = [f for metric in _METRICS for f in metric.describe()]
    families += [*lag_families([], _LAG_FAMILIES), _keystore_family(), *_health_families()]
    families.append(_requests_overdue_family())
    families += group_lag_families()  # served by `pdl lag --serve`, not `pdl run`
    families += erasure_families()  # served by `pdl lag --serve`, not `pdl run`
    return {f.name + suffix for f in families for suffix in suffixes.get(f.type, ("",))}
