"""The backup keys (``ledger.keys.backup``): one per period, wrapped by the master key,
in a SQLite file of their own beside the key store and never part of a backup."""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from datetime import datetime
from pathlib import Path

from ledger.keys.backup import BackupKey, BackupSchedule
from ledger.keys.store import KeyStoreError
from ledger.keys.wrapping import MasterWrap

_LABEL = "pdl-backup-key-v1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS backup_keys (
    key_id TEXT PRIMARY KEY,
    period_start TEXT NOT NULL UNIQUE,  -- ISO 8601, UTC
    wrapped BLOB NOT NULL               -- by the master key, in ledger.keys.wrapping's format
);
"""
_FIX = "is the disk full, or the file locked by another program? Free space or stop it"


class SQLiteBackupKeys:
    def __init__(self, path: Path, master_key: bytes, schedule: BackupSchedule) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.schedule = schedule
        self._wrap = MasterWrap(master_key)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA secure_delete = ON")
            with self._db:
                self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise KeyStoreError(f"the backup key store {path}: {exc}", _FIX) from exc

    def current(self, now: datetime) -> BackupKey:
        """The backup key of ``now``'s period, created on first use."""
        start = self.schedule.period_start(now).isoformat()
        with self._lock, self._db:
            key_id = uuid.uuid4().hex
            wrapped = self._wrap.wrap(os.urandom(32), _LABEL, key_id, start)
            self._db.execute(
                "INSERT OR IGNORE INTO backup_keys(key_id, period_start, wrapped) VALUES (?, ?, ?)",
                (key_id, start, wrapped),
            )
        found = self._select("period_start = ?", start)
        assert found is not None
        return found

    def by_id(self, key_id: str) -> BackupKey | None:
        return self._select("key_id = ?", key_id)

    def held(self) -> list[BackupKey]:
        """Every backup key still held, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT key_id FROM backup_keys ORDER BY period_start")
            ids = [str(r[0]) for r in rows.fetchall()]
        return [k for i in ids if (k := self.by_id(i)) is not None]

    def destroy_expired(self, now: datetime) -> list[BackupKey]:
        """Destroy, durably, every backup key whose period and grace are over."""
        doomed = [k for k in self.held() if self.schedule.destroyed_at(k.period_start) <= now]
        if doomed:
            with self._lock:
                with self._db:
                    for key in doomed:
                        self._db.execute("DELETE FROM backup_keys WHERE key_id = ?", (key.key_id,))
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return doomed

    def rotate_master(self, new_master_key: bytes) -> None:
        """Every backup key rewrapped by ``new_master_key``, in one transaction."""
        new = MasterWrap(new_master_key)
        keys = self.held()
        with self._lock, self._db:
            for key in keys:
                start = key.period_start.isoformat()
                self._db.execute(
                    "UPDATE backup_keys SET wrapped = ? WHERE key_id = ?",
                    (new.wrap(key.material, _LABEL, key.key_id, start), key.key_id),
                )
        self._wrap = new

    def close(self) -> None:
        self._db.close()

    def _select(self, where: str, value: str) -> BackupKey | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT key_id, period_start, wrapped FROM backup_keys WHERE {where}", (value,)
            ).fetchone()
        if row is None:
            return None
        key_id, start, wrapped = str(row[0]), str(row[1]), bytes(row[2])
        material = self._wrap.unwrap(wrapped, str(self.path), _LABEL, key_id, start)
        return BackupKey(key_id, datetime.fromisoformat(start), material)
