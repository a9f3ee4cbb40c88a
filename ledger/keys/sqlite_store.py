"""The embedded key store: SQLite, data keys wrapped (AES-GCM) by the master key.

``secure_delete`` is on so that shredded keys are overwritten in the database file,
not merely unlinked from the b-tree.

Schema version 3 (``PRAGMA user_version``): controllers are tenants. ``subjects``
records the one controller of each subject id; ``identities`` maps an HMAC of
(controller, natural identifier) to a subject id, so one person has one id per
controller and the ids of two controllers cannot be joined without the master key;
``data_keys`` rows carry their controller, which the wrapping binds too. ``master`` records the
id of the master key that wraps every key (``ledger.keys.wrapping``): a store is opened
only with that key, never silently with another. The identity lookups are keyed by a
random lookup secret kept wrapped in ``master``, not by the master key itself, so that
rotating the master key (``rotate_master``) rewraps the secret and every lookup still
finds its subject — lookups cannot be recomputed, as the store never holds the natural
identifiers. A version 2 store is upgraded on open, its lookup secret being the one
version 2 derived from the master key. A store written by pdl 0.1 (version 0: keys per
subject, lookups of the identifier alone) is refused: see ``KeyStoreVersionError``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import sqlite3
import threading
import time
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
from ledger.keys.wrapping import MasterWrap, wrong_master_key

#: The schema this code reads and writes (``PRAGMA user_version``); 0.1 wrote none (0).
SCHEMA_VERSION = 3

_MASTER_TABLE = """
CREATE TABLE IF NOT EXISTS master (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    master_key_id TEXT NOT NULL,   -- the key-check value: which master key wraps the keys
    wrapped_lookup_secret BLOB NOT NULL
);
"""
#: the label of data keys' wrapping, and of the lookup secret's
_DATA_KEY, _LOOKUP_SECRET = "pdl-wrap-v3", "pdl-lookup-secret-v3"
# run in one transaction: another process opening the store meanwhile sees all or none
_SCHEMA = f"""
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
{_MASTER_TABLE}
PRAGMA user_version = {SCHEMA_VERSION};
"""

_KEY_COLUMNS = "key_id, subject_id, controller, retention_class, wrapped"

# A restored backup brings shredded keys back: hence `pdl certificates reapply` in the fix.
_FIX = (
    "is the disk full, or the file damaged or locked by another program? Free space or "
    "stop that program; if the file is damaged, restore it from backup, then run "
    "`pdl certificates reapply`"
)
_UPGRADED_FROM = 2
#: seconds an unwrapped key stays in memory unused by a new read: a key shredded by
#: another process is dropped within this bound even if nothing here asks for it again
CACHE_SECONDS = 60.0
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
    #: seconds a shred waits for readers holding an old snapshot before it fails
    checkpoint_wait_s = 5.0

    @_reported
    def __init__(self, path: Path, master_key: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._wrap = MasterWrap(master_key)
        # key id -> (unwrapped key, monotonic instant it expires)
        self._cache: dict[str, tuple[DataKey, float]] = {}
        self._lock = threading.Lock()
        try:
            self._db.execute("PRAGMA secure_delete = ON")
            version = self._version()  # before anything writes to the file
            self._db.execute("PRAGMA journal_mode = WAL")
            if version != SCHEMA_VERSION:
                self._create_or_upgrade(master_key)
            self._lookup_key = self._open_lookup_secret()
        except BaseException:
            self._db.close()
            raise

    def _create_or_upgrade(self, master_key: bytes) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._version()  # again: another process may have been first
            if version == 0:
                self._run(_SCHEMA)
                secret = os.urandom(32)
            elif version == _UPGRADED_FROM:
                self._run(_MASTER_TABLE)
                secret = hmac.new(master_key, b"pdl-identity-lookup", hashlib.sha256).digest()
                self._rewrap_legacy_keys()
            if version != SCHEMA_VERSION:
                self._db.execute(
                    "INSERT INTO master(one, master_key_id, wrapped_lookup_secret) "
                    "VALUES (1, ?, ?)",
                    (self._wrap.key_id, self._wrap.wrap(secret, _LOOKUP_SECRET)),
                )
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _run(self, script: str) -> None:
        """Each statement of ``script`` in the open transaction (``executescript`` would
        commit it first)."""
        statement = ""
        for line in script.splitlines(keepends=True):
            statement += line
            if sqlite3.complete_statement(statement):
                self._db.execute(statement)
                statement = ""

    def _rewrap_legacy_keys(self) -> None:
        """Schema 2's keys (no master key id in the format) rewrapped in schema 3's; a
        master key that opens none of them is refused before anything is written."""
        for row in self._db.execute(f"SELECT {_KEY_COLUMNS} FROM data_keys").fetchall():
            key_id, subject_id, controller, retention_class, wrapped = row
            context = (str(key_id), str(subject_id), str(controller), str(retention_class))
            ad = "\x00".join(("pdl-wrap-v2", *context)).encode()
            try:
                material = self._wrap.unwrap_legacy(bytes(wrapped), ad)
            except InvalidTag:
                raise MasterKeyError(
                    f"the master key does not open the keys of {self.path} (schema 2, being "
                    "upgraded): nothing was changed",
                    "set PDL_MASTER_KEY (or PDL_MASTER_KEY_FILE) to the key the store was "
                    "created with",
                ) from None
            self._db.execute(
                "UPDATE data_keys SET wrapped = ? WHERE key_id = ?",
                (self._wrap.wrap(material, _DATA_KEY, *context), key_id),
            )

    def _open_lookup_secret(self) -> bytes:
        row = self._db.execute(
            "SELECT master_key_id, wrapped_lookup_secret FROM master WHERE one = 1"
        ).fetchone()
        if row is None:
            raise KeyStoreError(f"the key store {self.path} has no master key record", _FIX)
        if str(row[0]) != self._wrap.key_id:
            raise wrong_master_key(f"the key store {self.path}", str(row[0]), self._wrap.key_id)
        return self._wrap.unwrap(bytes(row[1]), f"the key store {self.path}", _LOOKUP_SECRET)

    @property
    def master_key_id(self) -> str:
        """The id of the master key that wraps this store's keys."""
        return self._wrap.key_id

    @_reported
    def rotate_master(self, new_master_key: bytes) -> None:
        new = MasterWrap(new_master_key)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute(f"SELECT {_KEY_COLUMNS} FROM data_keys").fetchall()
                for key_id, subject_id, controller, retention_class, wrapped in rows:
                    context = (str(key_id), str(subject_id), str(controller), str(retention_class))
                    material = self._wrap.unwrap(
                        bytes(wrapped), str(self.path), _DATA_KEY, *context
                    )
                    self._db.execute(
                        "UPDATE data_keys SET wrapped = ? WHERE key_id = ?",
                        (new.wrap(material, _DATA_KEY, *context), key_id),
                    )
                self._db.execute(
                    "UPDATE master SET master_key_id = ?, wrapped_lookup_secret = ?",
                    (new.key_id, new.wrap(self._lookup_key, _LOOKUP_SECRET)),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            # the old wrapping is overwritten in the file (secure_delete); fold the WAL in
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._wrap = new

    @_reported
    def snapshot(self, into: Path) -> None:
        """A consistent copy of the store written to ``into`` (``VACUUM INTO``), for a
        backup; the keys in it stay wrapped by the master key."""
        with self._lock:
            self._db.execute("VACUUM INTO ?", (str(into),))

    def _version(self) -> int:
        """The store's schema version (0: new); one this code cannot read is refused."""
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version in (SCHEMA_VERSION, _UPGRADED_FROM):
            return int(version)
        if version > SCHEMA_VERSION:
            raise KeyStoreVersionError(
                f"the key store {self.path} has schema version {version}, newer than this "
                f"pdl's {SCHEMA_VERSION}",
                "run the pdl version that wrote it (or a newer one)",
            )
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if "data_keys" in tables or "identities" in tables:
            raise _refuse_0_1(self.path)
        return 0

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
                # the fence is checked again in the insert itself, which runs under the
                # write lock: a shred-and-fence committed since the check above wins
                self._db.execute(
                    f"INSERT OR IGNORE INTO data_keys({_KEY_COLUMNS}) "
                    "SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM erased_subjects WHERE subject_id = ?)",
                    (key_id, subject_id, controller, retention_class, wrapped, subject_id),
                )
                row = self._select_key(where, (subject_id, retention_class))
                if row is None and self._fenced(subject_id):
                    raise SubjectErased(subject_id)
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
            # keys shredded elsewhere since they were cached leave memory now
            held = {row[0] for row in rows}
            self._drop(lambda key: key.subject_id == subject_id and key.key_id not in held)
        return [self._unwrap(row) for row in rows]

    def forget(self, subject_id: str | None = None) -> None:
        """Drop the subject's unwrapped keys from memory (every subject's with None)."""
        with self._lock:
            self._drop(lambda key: subject_id is None or key.subject_id == subject_id)

    def _drop(self, doomed: Callable[[DataKey], bool]) -> None:
        for key_id in [i for i, (key, _) in self._cache.items() if doomed(key)]:
            del self._cache[key_id]

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
        self,
        subject_id: str,
        retention_classes: Collection[str] | None = None,
        *,
        fence: bool = False,
    ) -> list[ShreddedKey]:
        with self._lock:
            with self._db:
                # the write lock first: no key can be made for the subject between the
                # shredding and the fence (they commit together)
                self._db.execute("BEGIN IMMEDIATE")
                if fence:
                    self._db.execute(
                        "INSERT OR IGNORE INTO erased_subjects(subject_id) VALUES (?)",
                        (subject_id,),
                    )
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
            self._fold_wal()
        return destroyed

    def _fold_wal(self) -> None:
        """secure_delete overwrote the shredded rows in the database file, but the WAL
        still holds the old pages until checkpointed: fold it in and truncate it. A
        reader holding an old snapshot stops the checkpoint short, and the keys would
        remain in the WAL: that is refused, so the erasure fails (no certificate) and is
        retried, and the retry's checkpoint folds what this one could not."""
        # wait for readers a bounded time, not the connection's 30 s write timeout
        self._db.execute(f"PRAGMA busy_timeout = {int(self.checkpoint_wait_s * 1000)}")
        try:
            checkpoint = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            self._db.execute("PRAGMA busy_timeout = 30000")
        busy, logged, folded = checkpoint
        if busy or logged != folded:
            raise KeyStoreError(
                f"the key store {self.path}: the write-ahead log could not be folded into "
                f"the database ({folded} of {logged} page(s); busy={busy}), so destroyed "
                "keys may still be in it",
                "another process is holding a read transaction on the key store: let it "
                "finish (or stop it), then retry — `pdl erase` retries the request",
            )

    @_reported
    def close(self) -> None:
        with self._lock:
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
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        self._drop_expired(now)
        context = (key_id, subject_id, controller, retention_class)
        material = self._wrap.unwrap(wrapped, str(self.path), _DATA_KEY, *context)
        key = DataKey(key_id, subject_id, controller, retention_class, material)
        self._cache[key_id] = (key, now + CACHE_SECONDS)
        return key

    def _drop_expired(self, now: float) -> None:
        for key_id in [i for i, (_, expires) in self._cache.items() if expires <= now]:
            del self._cache[key_id]

    def _wrap_key(
        self, key_id: str, subject_id: str, controller: str, retention_class: str, material: bytes
    ) -> bytes:
        # the controller is bound too: a row moved to another controller does not open
        context = (key_id, subject_id, controller, retention_class)
        return self._wrap.wrap(material, _DATA_KEY, *context)


def _new_subject_id() -> str:
    return "sub_" + uuid.uuid4().hex
