"""The Prometheus metrics measured when scraped, wired once for ``pdl run`` and the API.

The process's own metrics (``consumers.metrics``: events consumed, dead letters,
latencies, erasures) live in the default registry. At scrape time more are measured:
the projection consumers' lag, the key count and whether this process's loops reach the
log (``LagCollector``, ``KeyStoreCollector``, ``LogHealthCollector``).
They read through adapters of their own: a scrape runs in the HTTP server's threads and
must neither wait for the work it measures nor share its SQLite handles.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from consumers.lag import LagProbe
from consumers.metrics import (
    KeyStoreCollector,
    LagCollector,
    LogHealthCollector,
    MetricsObserver,
    RequestsOverdueCollector,
)
from ledger.service.backends import Backends
from ledger.service.settings import Settings


class Monitoring:
    """The scrape-time collectors of one ledger, registered in ``registry`` until closed.

    ``pdl run`` registers them in the default registry and serves it (``serve``); the
    API keeps them in a registry of its own and answers with ``exposition()``. ``owned``
    limits the lag to the partitions a running consumer owns; ``group`` defaults to the
    projections' group of the ledger's topic prefix."""

    def __init__(
        self,
        settings: Settings,
        registry: CollectorRegistry | None = None,
        group: str | None = None,
        owned: MetricsObserver | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True) if registry is None else registry
        self._scrape = Backends(settings)
        probe = LagProbe(self._scrape.log, self._scrape.store)
        topics = self._scrape.topics
        self._lag = LagCollector(
            probe, group or topics.projections_group, topics.event_topics(), owned=owned
        )
        self._collectors: list[Collector] = [
            self._lag,
            KeyStoreCollector(self._scrape.layout.keys),
            LogHealthCollector(),
            RequestsOverdueCollector(
                self._scrape.store, lambda: self._scrape.catalogs, self._scrape.clock
            ),
        ]
        for collector in self._collectors:
            self.registry.register(collector)
        self._server: WSGIServer | None = None

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format: the process's and, measured now,
        the lag and the key count."""
        if self.registry is REGISTRY:
            return generate_latest(REGISTRY)
        return generate_latest(REGISTRY) + generate_latest(self.registry)

    def serve(self, addr: str, port: int) -> None:
        """Serve ``/metrics`` from a daemon thread until closed; OSError if the port is taken."""
        from prometheus_client import disable_created_metrics, start_http_server

        disable_created_metrics()  # type: ignore[no-untyped-call]
        self._server, _ = start_http_server(port, addr=addr, registry=self.registry)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for collector in self._collectors:
            self.registry.unregister(collector)
        self._collectors.clear()
        self._lag.close()
        self._scrape.close()
