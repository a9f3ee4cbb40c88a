"""The embedded key store: SQLite, data keys wrapped (AES-GCM) by the master key.

``secure_delete`` is on so that shredded keys are overwritten in the database file,
not merely unlinked from the b-tree.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.keys.master import MasterKeyError
from ledger.keys.store import DataKey, KeyStore, KeyStoreError, ShreddedKey, SubjectErased

_SCHEMA = """
CREATE TABLE IF NOT EXISTS identities (
    lookup BLOB PRIMARY KEY,      -- HMAC of the natural identifier, never the identifier
    subject_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS identities_subject ON identities(subject_id);
CREATE TABLE IF NOT EXISTS data_keys (
    key_id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    retention_class TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    UNIQUE (subject_id, retention_class)
);
CREATE TABLE IF NOT EXISTS erased_subjects (
    subject_id TEXT PRIMARY KEY   -- the erasure fence: pseudonymous ids only
) WITHOUT ROWID;
"""

# A restored backup brings shredded keys back: hence `pdl certificates reapply` in the fix.
_FIX = (
    "is the disk full, or the file damaged or locked by another program? Free space or "
    "stop that program; if the file is damaged, restore it from backup, then run "
    "`pdl certificates reapply`"
)
P = ParamSpec("P")
R = TypeVar("R")


def _reported(
    method: Callable[Concatenate[SQLiteKeyStore, P], R],
) -> Callable[Concatenate[SQLiteKeyStore, P], R]:
    """The method, with SQLite's errors raised as the port's ``KeyStoreError``."""

    @functools.wraps(method)
    def reported(store: SQLiteKeyStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(store, *args, **kwargs)
        except sqlite3.Error as exc:
            raise KeyStoreError(f"the key store {store.path}: {exc}", _FIX) from exc

    return reported


class SQLiteKeyStore(KeyStore):
    @_reported
    def __init__(self, path: Path, master_key: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(_SCHEMA)
        self._wrap = AESGCM(master_key)
        self._lookup_key = hmac.new(master_key, b"pdl-identity-lookup", hashlib.sha256).digest()
        self._cache: dict[str, DataKey] = {}
        self._lock = threading.Lock()

    @_reported
    def subject_for(self, natural_id: str, *, create: bool = True) -> str | None:
        lookup = hmac.new(self._lookup_key, natural_id.encode(), hashlib.sha256).digest()
        select = "SELECT subject_id FROM identities WHERE lookup = ?"
        with self._lock:
            row = self._db.execute(select, (lookup,)).fetchone()
            if row is None and create:  # write (and fsync) only for a new person
                with self._db:
                    self._db.execute(
                        "INSERT OR IGNORE INTO identities(lookup, subject_id) VALUES (?, ?)",
                        (lookup, _new_subject_id()),
                    )
                    row = self._db.execute(select, (lookup,)).fetchone()
        return None if row is None else str(row[0])

    def new_subject(self) -> str:
        return _new_subject_id()

    @_reported
    def data_key(self, subject_id: str, retention_class: str) -> DataKey:
        with self._lock, self._db:
            if self._fenced(subject_id):
                raise SubjectErased(subject_id)
            row = self._select_key(
                "subject_id = ? AND retention_class = ?", (subject_id, retention_class)
            )
            if row is None:
                key_id = uuid.uuid4().hex
                material = AESGCM.generate_key(bit_length=256)
                wrapped = self._wrap_key(key_id, subject_id, retention_class, material)
                self._db.execute(
                    "INSERT OR IGNORE INTO data_keys VALUES (?, ?, ?, ?)",
                    (key_id, subject_id, retention_class, wrapped),
                )
                row = self._select_key(
                    "subject_id = ? AND retention_class = ?", (subject_id, retention_class)
                )
        assert row is not None
        return self._unwrap(row)

    @_reported
    def key_by_id(self, key_id: str) -> DataKey | None:
        # Always confirm the row: another process may have shredded the key since this
        # one cached it, and a shredded key must stop opening values at once everywhere.
        with self._lock:
            row = self._select_key("key_id = ?", (key_id,))
            if row is None:
                self._cache.pop(key_id, None)
                return None
        return self._unwrap(row)

    @_reported
    def keys_of(self, subject_id: str) -> list[DataKey]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key_id, subject_id, retention_class, wrapped FROM data_keys "
                "WHERE subject_id = ? ORDER BY retention_class",
                (subject_id,),
            ).fetchall()
        return [self._unwrap((str(k), str(s), str(c), bytes(w))) for k, s, c, w in rows]

    @_reported
    def fence_erased_subject(self, subject_id: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO erased_subjects(subject_id) VALUES (?)", (subject_id,)
            )

    @_reported
    def is_erased_subject(self, subject_id: str) -> bool:
        with self._lock:
            return self._fenced(subject_id)

    def _fenced(self, subject_id: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM erased_subjects WHERE subject_id = ?", (subject_id,)
        ).fetchone()
        return row is not None

    @_reported
    def shred(
        self, subject_id: str, retention_classes: Collection[str] | None = None
    ) -> list[ShreddedKey]:
        with self._lock:
            with self._db:
                rows = [
                    r
                    for r in self._db.execute(
                        "SELECT key_id, subject_id, retention_class, wrapped FROM data_keys "
                        "WHERE subject_id = ?",
                        (subject_id,),
                    )
                    if retention_classes is None or r[2] in retention_classes
                ]
                destroyed = []
                for key_id, _, retention_class, wrapped in rows:
                    key = self._unwrap(
                        (str(key_id), subject_id, str(retention_class), bytes(wrapped))
                    )
                    destroyed.append(ShreddedKey(key.key_id, key.retention_class, key.fingerprint))
                    self._db.execute("DELETE FROM data_keys WHERE key_id = ?", (key_id,))
                    self._cache.pop(str(key_id), None)
                if retention_classes is None:
                    self._db.execute("DELETE FROM identities WHERE subject_id = ?", (subject_id,))
            # secure_delete overwrote the rows in the database file; the WAL still holds
            # the old pages until checkpointed, so fold it in and truncate it
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return destroyed

    @_reported
    def close(self) -> None:
        self._cache.clear()
        self._db.close()

    def _select_key(self, where: str, args: tuple[str, ...]) -> tuple[str, str, str, bytes] | None:
        row = self._db.execute(
            f"SELECT key_id, subject_id, retention_class, wrapped FROM data_keys WHERE {where}",
            args,
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]), bytes(row[3]))

    def _unwrap(self, row: tuple[str, str, str, bytes]) -> DataKey:
        key_id, subject_id, retention_class, wrapped = row
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        ad = _wrap_ad(key_id, subject_id, retention_class)
        try:
            material = self._wrap.decrypt(wrapped[:12], wrapped[12:], ad)
        except InvalidTag:
            raise MasterKeyError(
                "the master key does not open this key store's keys: set PDL_MASTER_KEY "
                "(or PDL_MASTER_KEY_FILE) to the key the store was created with"
            ) from None
        key = DataKey(key_id, subject_id, retention_class, material)
        self._cache[key_id] = key
        return key

    def _wrap_key(
        self, key_id: str, subject_id: str, retention_class: str, material: bytes
    ) -> bytes:
        nonce = os.urandom(12)
        ad = _wrap_ad(key_id, subject_id, retention_class)
        return nonce + self._wrap.encrypt(nonce, material, ad)


def _wrap_ad(key_id: str, subject_id: str, retention_class: str) -> bytes:
    return "\x00".join(("pdl-wrap-v1", key_id, subject_id, retention_class)).encode()


def _new_subject_id() -> str:
    return "sub_" + uuid.uuid4().hex
