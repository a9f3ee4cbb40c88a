"""The embedded key store: SQLite, data keys wrapped (AES-GCM) by the master key.

``secure_delete`` is on so that shredded keys are overwritten in the database file,
not merely unlinked from the b-tree.

Schema version 2 (``PRAGMA user_version``): controllers are tenants. ``subjects``
records the one controller of each subject id; ``identities`` maps an HMAC of
(controller, natural identifier) to a subject id, so one person has one id per
controller and the ids of two controllers cannot be joined without the master key;
``data_keys`` rows carry their controller, which the wrapping binds too. A store written
by pdl 0.1 (version 0: keys per subject, lookups of the identifier alone) is refused:
see ``KeyStoreVersionError``.
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

from ledger.errors import ConfigError
from ledger.keys.master import MasterKeyError
from ledger.keys.store import (
    DataKey,
    KeyStore,
    KeyStoreError,
    ShreddedKey,
    SubjectErased,
    SubjectOfAnotherController,
    UnknownSubject,
)

#: The schema this code reads and writes (``PRAGMA user_version``); 0.1 wrote none (0).
SCHEMA_VERSION = 2

# one transaction: another process opening the store meanwhile sees all of it or none
_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS subjects (
    subject_id TEXT PRIMARY KEY,  -- pseudonymous; belongs to one controller for ever
    controller TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subjects_controller ON subjects(controller);
CREATE TABLE IF NOT EXISTS identities (
    lookup BLOB PRIMARY KEY,      -- HMAC of (controller, natural identifier), never either
    subject_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS identities_subject ON identities(subject_id);
CREATE TABLE IF NOT EXISTS data_keys (
    key_id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    controller TEXT NOT NULL,
    retention_class TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    UNIQUE (subject_id, retention_class)
);
CREATE TABLE IF NOT EXISTS erased_subjects (
    subject_id TEXT PRIMARY KEY   -- the erasure fence: pseudonymous ids only
) WITHOUT ROWID;
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""

_KEY_COLUMNS = "key_id, subject_id, controller, retention_class, wrapped"

# A restored backup brings shredded keys back: hence `pdl certificates reapply` in the fix.
_FIX = (
    "is the disk full, or the file damaged or locked by another program? Free space or "
    "stop that program; if the file is damaged, restore it from backup, then run "
    "`pdl certificates reapply`"
)
P = ParamSpec("P")
R = TypeVar("R")
_Row = tuple[str, str, str, str, bytes]


class KeyStoreVersionError(ConfigError):
    """The key store's files were written by another version of pdl."""


def _refuse_0_1(path: Path) -> KeyStoreVersionError:
    return KeyStoreVersionError(
        f"the key store {path} was written by pdl 0.1: its keys are per subject and "
        "retention class with no controller, and its identity lookups cannot be re-keyed "
        "per controller (they are HMACs of the identifier alone, which the store never "
        "held); pdl 0.2 keeps controllers apart and does not open it",
        "keep using pdl 0.1 on that data directory until its data has been exported or "
        "erased, or start pdl 0.2 on a new data directory (--data-dir or PDL_DATA_DIR) and "
        "a new log, and submit the events again from their sources so that each person is "
        "given a subject id per controller (docs/DPO.md, 'Controllers are tenants')",
    )


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
        try:
            self._db.execute("PRAGMA secure_delete = ON")
            new = self._is_new()  # before anything writes to the file
            self._db.execute("PRAGMA journal_mode = WAL")
            if new:
                self._db.executescript(_SCHEMA)
        except BaseException:
            self._db.close()
            raise
        self._wrap = AESGCM(master_key)
        self._lookup_key = hmac.new(master_key, b"pdl-identity-lookup", hashlib.sha256).digest()
        self._cache: dict[str, DataKey] = {}
        self._lock = threading.Lock()

    def _is_new(self) -> bool:
        """Whether the store is new (empty); one of another schema version is refused."""
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version == SCHEMA_VERSION:
            return False
        if version > SCHEMA_VERSION:
            raise KeyStoreVersionError(
                f"the key store {self.path} has schema version {version}, newer than this "
                f"pdl's {SCHEMA_VERSION}",
                "run the pdl version that wrote it (or a newer one)",
            )
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if "data_keys" in tables or "identities" in tables:
            raise _refuse_0_1(self.path)
        return True

    def _lookup(self, natural_id: str, controller: str) -> bytes:
        # one lookup per (controller, identifier): the same person at two controllers
        # gives two unrelated lookups, and so two unrelated subject ids
        message = b"\x00".join((controller.encode(), natural_id.encode()))
        return hmac.new(self._lookup_key, message, hashlib.sha256).digest()

    @_reported
    def subject_for(self, natural_id: str, controller: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT subject_id FROM identities WHERE lookup = ?",
                (self._lookup(natural_id, controller),),
            ).fetchone()
        return None if row is None else str(row[0])

    @_reported
    def subjects_known_as(self, natural_id: str) -> dict[str, str]:
        found = {}
        with self._lock:
            controllers = [
                str(r[0]) for r in self._db.execute("SELECT DISTINCT controller FROM subjects")
            ]
            for controller in controllers:
                row = self._db.execute(
                    "SELECT subject_id FROM identities WHERE lookup = ?",
                    (self._lookup(natural_id, controller),),
                ).fetchone()
                if row is not None:
                    found[controller] = str(row[0])
        return found

    @_reported
    def assign_subject(
        self, subject_id: str, controller: str, natural_id: str | None = None
    ) -> str:
        with self._lock, self._db:
            if natural_id is not None:
                lookup = self._lookup(natural_id, controller)
                self._db.execute(
                    "INSERT OR IGNORE INTO identities(lookup, subject_id) VALUES (?, ?)",
                    (lookup, subject_id),
                )
                row = self._db.execute(
                    "SELECT subject_id FROM identities WHERE lookup = ?", (lookup,)
                ).fetchone()
                subject_id = str(row[0])
            if self._fenced(subject_id):
                raise SubjectErased(subject_id)
            self._db.execute(
                "INSERT OR IGNORE INTO subjects(subject_id, controller) VALUES (?, ?)",
                (subject_id, controller),
            )
            owner = self._owner(subject_id)
            if owner != controller:
                raise SubjectOfAnotherController(subject_id, str(owner))
        return subject_id

    @_reported
    def controller_of(self, subject_id: str) -> str | None:
        with self._lock:
            return self._owner(subject_id)

    def _owner(self, subject_id: str) -> str | None:
        row = self._db.execute(
            "SELECT controller FROM subjects WHERE subject_id = ?", (subject_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def new_subject(self) -> str:
        return _new_subject_id()

    @_reported
    def data_key(self, subject_id: str, retention_class: str) -> DataKey:
        with self._lock, self._db:
            if self._fenced(subject_id):
                raise SubjectErased(subject_id)
            where = "subject_id = ? AND retention_class = ?"
            row = self._select_key(where, (subject_id, retention_class))
            if row is None:
                controller = self._owner(subject_id)
                if controller is None:
                    raise UnknownSubject(subject_id)
                key_id = uuid.uuid4().hex
                material = AESGCM.generate_key(bit_length=256)
                wrapped = self._wrap_key(key_id, subject_id, controller, retention_class, material)
                self._db.execute(
                    f"INSERT OR IGNORE INTO data_keys({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                    (key_id, subject_id, controller, retention_class, wrapped),
                )
                row = self._select_key(where, (subject_id, retention_class))
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
            rows = self._select_keys(subject_id)
        return [self._unwrap(row) for row in rows]

    @_reported
    def has_identity(self, subject_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM identities WHERE subject_id = ?", (subject_id,)
            ).fetchone()
        return row is not None

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
                rows = self._select_keys(subject_id)
                doomed = [r for r in rows if retention_classes is None or r[3] in retention_classes]
                destroyed = []
                for row in doomed:
                    key = self._unwrap(row)
                    destroyed.append(ShreddedKey(key.key_id, key.retention_class, key.fingerprint))
                    self._db.execute("DELETE FROM data_keys WHERE key_id = ?", (key.key_id,))
                    self._cache.pop(key.key_id, None)
                if retention_classes is None or (doomed and len(doomed) == len(rows)):
                    # no key left: the identity goes with them
                    self._db.execute("DELETE FROM identities WHERE subject_id = ?", (subject_id,))
            # secure_delete overwrote the rows in the database file; the WAL still holds
            # the old pages until checkpointed, so fold it in and truncate it
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return destroyed

    @_reported
    def close(self) -> None:
        self._cache.clear()
        self._db.close()

    def _select_keys(self, subject_id: str) -> list[_Row]:
        rows = self._db.execute(
            f"SELECT {_KEY_COLUMNS} FROM data_keys WHERE subject_id = ? ORDER BY retention_class",
            (subject_id,),
        ).fetchall()
        return [(str(k), str(s), str(o), str(c), bytes(w)) for k, s, o, c, w in rows]

    def _select_key(self, where: str, args: tuple[str, ...]) -> _Row | None:
        row = self._db.execute(
            f"SELECT {_KEY_COLUMNS} FROM data_keys WHERE {where}", args
        ).fetchone()
        if row is None:
            return None
        return (str(row[0]), str(row[1]), str(row[2]), str(row[3]), bytes(row[4]))

    def _unwrap(self, row: _Row) -> DataKey:
        key_id, subject_id, controller, retention_class, wrapped = row
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        ad = _wrap_ad(key_id, subject_id, controller, retention_class)
        try:
            material = self._wrap.decrypt(wrapped[:12], wrapped[12:], ad)
        except InvalidTag:
            raise MasterKeyError(
                "the master key does not open this key store's keys: set PDL_MASTER_KEY "
                "(or PDL_MASTER_KEY_FILE) to the key the store was created with"
            ) from None
        key = DataKey(key_id, subject_id, controller, retention_class, material)
        self._cache[key_id] = key
        return key

    def _wrap_key(
        self, key_id: str, subject_id: str, controller: str, retention_class: str, material: bytes
    ) -> bytes:
        nonce = os.urandom(12)
        ad = _wrap_ad(key_id, subject_id, controller, retention_class)
        return nonce + self._wrap.encrypt(nonce, material, ad)


def _wrap_ad(key_id: str, subject_id: str, controller: str, retention_class: str) -> bytes:
    # the controller is bound too: a row moved to another controller does not open
    return "\x00".join(("pdl-wrap-v2", key_id, subject_id, controller, retention_class)).encode()


def _new_subject_id() -> str:
    return "sub_" + uuid.uuid4().hex
