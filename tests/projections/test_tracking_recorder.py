"""The projection store implements eventsourcing's TrackingRecorder: it passes the
library's own test case for that interface, unchanged."""

from __future__ import annotations

import tempfile
from pathlib import Path

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.tests.persistence import TrackingRecorderTestCase

from consumers.sqlite_store import SQLiteProjectionStore


class TestProjectionStoreIsATrackingRecorder(TrackingRecorderTestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def create_recorder(self) -> TrackingRecorder:
        return SQLiteProjectionStore(Path(self._tmp.name) / "projections.sqlite")
