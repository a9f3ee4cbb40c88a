"""What the API serves, behind one lock: reports (through ``ledger.reports.build``, the
same code path as ``pdl report``), subject look-ups, and the Prometheus metrics.

Reports are built one at a time on one ``Backends`` (its SQLite handles are shared by the
server's threads); the metrics are scraped through handles of their own, like ``pdl run``
does, so a scrape never waits for a report.
"""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from ledger.errors import NotFound
from ledger.reports.build import ReportRequest, build_report
from ledger.reports.render import MEDIA_TYPES, ReportFormat, render
from ledger.service.backends import Backends
from ledger.service.monitoring import Monitoring
from ledger.service.settings import Settings
from ledger.service.views import resolve_subject

METRICS_MEDIA_TYPE = CONTENT_TYPE_LATEST


class ReportService:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._ledger: Backends | None = None
        self._metrics: Monitoring | None = None
        self._metrics_lock = threading.Lock()

    def _reports_ledger(self) -> Backends:
        if self._ledger is None:
            self._ledger = Backends(self._settings)
        return self._ledger

    def report(self, request: ReportRequest, fmt: ReportFormat) -> tuple[bytes, str, str]:
        """The rendered report, its media type and its name (``report`` field)."""
        with self._lock:
            ledger = self._reports_ledger()
            ledger.current_catalogs()  # a version published since the last report counts
            try:
                built: dict[str, Any] = build_report(ledger, request)
            finally:
                # no raw key outlives the request: a subject erased meanwhile by another
                # process leaves nothing of its keys in this long-running one
                ledger.keys.forget()
        return render(built, fmt), MEDIA_TYPES[fmt], str(built["report"])

    def subject_for(self, identifier: str, controller: str | None = None) -> str | None:
        """The subject id of a natural identifier at ``controller`` (needed when several
        controllers know it: InvalidRequest names them), if the key store knows it."""
        with self._lock:
            keys = self._reports_ledger().keys
            try:
                return resolve_subject(keys, identifier, controller)
            except NotFound:
                return None

    def metrics(self) -> bytes:
        """The process's metrics and, measured now, the projection consumers' lag and
        the key count (``ledger.service.monitoring``)."""
        with self._metrics_lock:
            if self._metrics is None:
                self._metrics = Monitoring(self._settings)
            return self._metrics.exposition()

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
        if self._metrics is not None:
            self._metrics.close()
            self._metrics = None
