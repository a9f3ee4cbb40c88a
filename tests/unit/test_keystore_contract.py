"""The SQLite key store passes the key store port's contract (``ledger.keys.testcase``)."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import pytest

from ledger.keys.sqlite_schema import SCHEMA_VERSION, KeyStoreVersionError
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


#: what pdl 0.1 wrote: keys per subject with no controller, no schema version
_SCHEMA_0_1 = """
CREATE TABLE identities (lookup BLOB PRIMARY KEY, subject_id TEXT NOT NULL);
CREATE TABLE data_keys (
    key_id TEXT PRIMARY KEY, subject_id TEXT NOT NULL, retention_class TEXT NOT NULL,
    wrapped BLOB NOT NULL, UNIQUE (subject_id, retention_class)
);
CREATE TABLE erased_subjects (subject_id TEXT PRIMARY KEY) WITHOUT ROWID;
"""


def test_a_key_store_written_by_0_1_is_refused_with_the_way_on(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA_0_1)
    before = path.read_bytes()
    with pytest.raises(KeyStoreVersionError) as refused:
        SQLiteKeyStore(path, secrets.token_bytes(32))
    assert "pdl 0.1" in str(refused.value) and "PDL_DATA_DIR" in str(refused.value)
    assert path.read_bytes() == before  # refused untouched


def test_a_new_key_store_records_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    SQLiteKeyStore(path, secrets.token_bytes(32)).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
