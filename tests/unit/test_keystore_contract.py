"""The SQLite key store passes the key store port's contract (``ledger.keys.testcase``)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from ledger.keys.sqlite_store import SQLiteKeyStore
from ledger.keys.store import KeyStore
from ledger.keys.testcase import KeyStoreTestCase


class TestSQLiteKeyStore(KeyStoreTestCase):
    @pytest.fixture(autouse=True)
    def _where(self, tmp_path: Path) -> None:
        self.path = tmp_path / "keys.sqlite"
        self.master_key = secrets.token_bytes(32)

    def make_store(self) -> KeyStore:
        return SQLiteKeyStore(self.path, self.master_key)
