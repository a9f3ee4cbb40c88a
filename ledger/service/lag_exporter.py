"""The lag exporter (``pdl lag --serve``): every group's lag, from the log, over HTTP.

It runs apart from the consumers it watches, so their lag keeps rising in Prometheus
while they are down (``consumers.group_lag``), and it counts the erasures recorded on the
log (``consumers.erasure_totals``), which short-lived commands carry out. It opens only
the log.
"""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from consumers.erasure_totals import ErasureTotalsCollector
from consumers.group_lag import GroupLagCollector
from ledger.contract.topics import Topics
from ledger.service.backends import Backends
from ledger.service.settings import Settings

#: where ``pdl lag --serve`` listens unless told (``pdl run`` serves 9464)
DEFAULT_EXPORTER_PORT = 9467


def ledger_groups(topics: Topics) -> dict[str, list[str]]:
    """Every consumer group the ledger runs, with the topics it consumes."""
    return {topics.projections_group: topics.event_topics(), topics.erasure_group: [topics.erasure]}


class LagExporter:
    """Serves ``pdl_group_*`` for every group of one ledger, and
    ``pdl_erasures_recorded_total``, until closed."""

    def __init__(self, settings: Settings) -> None:
        self._backends = Backends(settings)
        self.groups = ledger_groups(self._backends.topics)
        self.registry = CollectorRegistry(auto_describe=True)
        log, lock = self._backends.log, threading.Lock()
        self.registry.register(GroupLagCollector(log, self.groups, lock=lock))
        self.registry.register(
            ErasureTotalsCollector(log, self._backends.registry, self._backends.topics, lock)
        )
        self._server: WSGIServer | None = None

    def serve(self, addr: str, port: int) -> None:
        """Serve ``/metrics`` from a daemon thread; OSError if the port is taken."""
        self._server, _ = start_http_server(port, addr=addr, registry=self.registry)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._backends.close()
