"""The SQLite projection store passes the port's contract (``consumers.store_testcase``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumers.sqlite_store import SQLiteProjectionStore
from consumers.store import ProjectionStore
from consumers.store_testcase import ProjectionStoreTestCase


class TestSQLiteProjectionStore(ProjectionStoreTestCase):
    @pytest.fixture(autouse=True)
    def _where(self, tmp_path: Path) -> None:
        self.directory = tmp_path

    def make_store(self, name: str = "projections") -> ProjectionStore:
        return SQLiteProjectionStore(self.directory / f"{name}.sqlite")
