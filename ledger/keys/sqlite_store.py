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
subject, lookups of the identifier alone) is refused: see ``sqlite_schema.KeyStoreVersionError``.
The tables and the upgrade are in ``ledger.keys.sqlite_schema``.

Every write runs in a ``batch()`` block: a block of its own (one durable commit), or a
savepoint of the caller's open batch, which commits once for all of its writes.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import sqlite3
import threading
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import Conflict
from ledger.keys.key_cache import UnwrappedKeys
from ledger.keys.sqlite_schema import (
    DATA_KEY,
    KEY_COLUMNS,
    LOOKUP_SECRET,
    SCHEMA_VERSION,
    create_or_upgrade,
    schema_version,
)
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

# A restored backup brings shredded keys back: hence `pdl certificates reapply` in the fix.
_FIX = (
    "is the disk full, or the file damaged or locked by another program? Free space or "
    "stop that program; if the file is damaged, restore it from backup, then run "
    "`pdl certificates reapply`"
)
P = ParamSpec("P")
R = TypeVar("R")
_Row = tuple[str, str, str, str, bytes]


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
        self._cache = UnwrappedKeys()
        # re-entrant: a batch holds it from its start to its commit, and the writes inside
        # take it again; other threads wait for the batch to end
        self._lock = threading.RLock()
        self._depth = 0  # open batch blocks (the outermost holds the transaction)
        self._made: list[str] = []  # keys made in the open batch, dropped if it rolls back
        try:
            self._db.execute("PRAGMA secure_delete = ON")
            # a commit returns once the write-ahead log is on disk: a key handed out is kept
            self._db.execute("PRAGMA synchronous = FULL")
            version = schema_version(self._db, path)  # before anything writes to the file
            self._db.execute("PRAGMA journal_mode = WAL")
            if version != SCHEMA_VERSION:
                create_or_upgrade(self._db, path, self._wrap, master_key)
            self._lookup_key = self._open_lookup_secret()
        except BaseException:
            self._db.close()
            raise

    def _open_lookup_secret(self) -> bytes:
        row = self._db.execute(
            "SELECT master_key_id, wrapped_lookup_secret FROM master WHERE one = 1"
        ).fetchone()
        if row is None:
            raise KeyStoreError(f"the key store {self.path} has no master key record", _FIX)
        if str(row[0]) != self._wrap.key_id:
            raise wrong_master_key(f"the key store {self.path}", str(row[0]), self._wrap.key_id)
        return self._wrap.unwrap(bytes(row[1]), f"the key store {self.path}", LOOKUP_SECRET)

    @property
    def master_key_id(self) -> str:
        """The id of the master key that wraps this store's keys."""
        return self._wrap.key_id

    @_reported
    def rotate_master(self, new_master_key: bytes) -> None:
        new = MasterWrap(new_master_key)
        with self._lock:
            self._refuse_in_batch("rotate_master")
            with self.batch():
                rows = self._db.execute(f"SELECT {KEY_COLUMNS} FROM data_keys").fetchall()
                for key_id, subject_id, controller, retention_class, wrapped in rows:
                    context = (str(key_id), str(subject_id), str(controller), str(retention_class))
                    material = self._wrap.unwrap(bytes(wrapped), str(self.path), DATA_KEY, *context)
                    self._db.execute(
                        "UPDATE data_keys SET wrapped = ? WHERE key_id = ?",
                        (new.wrap(material, DATA_KEY, *context), key_id),
                    )
                self._db.execute(
                    "UPDATE master SET master_key_id = ?, wrapped_lookup_secret = ?",
                    (new.key_id, new.wrap(self._lookup_key, LOOKUP_SECRET)),
                )
            # the old wrapping is overwritten in the file (secure_delete); fold the WAL in
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._wrap = new

    @_reported
    def snapshot(self, into: Path) -> None:
        """A consistent copy of the store written to ``into`` (``VACUUM INTO``), for a
        backup; the keys in it stay wrapped by the master key."""
        with self._lock:
            self._refuse_in_batch("snapshot")
            self._db.execute("VACUUM INTO ?", (str(into),))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction for the outermost block: other processes'
        writers wait for its end (the connection's busy timeout), and their readers see the
        store as it was before it. A nested block, and each write inside (every write runs
        in a block of its own), is a savepoint of that transaction: leaving it by an
        exception undoes its writes only, so a refused call leaves nothing half-written in
        the batch. The block holds this store's lock: other threads wait for its end."""
        with self._lock:
            outermost, savepoint, made = self._depth == 0, f"pdl_{self._depth}", len(self._made)
            self._sql("BEGIN IMMEDIATE" if outermost else f"SAVEPOINT {savepoint}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                self._undo(outermost, savepoint, made)
                raise
            self._depth -= 1
            if not outermost:
                self._sql(f"RELEASE {savepoint}")
                return
            try:
                self._sql("COMMIT")
            except BaseException:
                self._undo(outermost, savepoint, made)
                raise
            self._made.clear()

    def _undo(self, outermost: bool, savepoint: str, made: int) -> None:
        """Roll the block back, and drop from memory the keys it made: they no longer
        exist. (SQLite may have rolled the whole transaction back already, on a full disk
        or an I/O error: then there is nothing left to undo.)"""
        for key_id in self._made[made:]:
            self._cache.discard(key_id)
        del self._made[made:]
        if not self._db.in_transaction:
            return
        if outermost:
            self._sql("ROLLBACK")
        else:
            self._sql(f"ROLLBACK TO {savepoint}")
            self._sql(f"RELEASE {savepoint}")

    def _sql(self, statement: str) -> None:
        try:
            self._db.execute(statement)
        except sqlite3.Error as exc:
            raise KeyStoreError(f"the key store {self.path}: {exc}", _FIX) from exc

    def _refuse_in_batch(self, operation: str) -> None:
        if self._depth:
            raise Conflict(
                f"the key store {self.path}: {operation} cannot run inside a batch, which "
                "commits only when its block ends: what it destroys or rewraps must be "
                "durable, and folded out of the write-ahead log, when it returns",
                f"call {operation} after the `with keys.batch():` block",
            )

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
        with self.batch():
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
        with self._lock:
            # reads first: the key usually exists, and reading takes no write lock
            row = self._existing_key(subject_id, retention_class)
            if row is None:
                with self.batch():
                    # again under the write lock: another writer may have made the key,
                    # or shredded and fenced the subject, since the reads above
                    row = self._existing_key(subject_id, retention_class)
                    row = row or self._make_key(subject_id, retention_class)
        return self._unwrap(row)

    def _existing_key(self, subject_id: str, retention_class: str) -> _Row | None:
        if self._fenced(subject_id):
            raise SubjectErased(subject_id)
        where = "subject_id = ? AND retention_class = ?"
        return self._select_key(where, (subject_id, retention_class))

    def _make_key(self, subject_id: str, retention_class: str) -> _Row:
        controller = self._owner(subject_id)
        if controller is None:
            raise UnknownSubject(subject_id)
        key_id = uuid.uuid4().hex
        material = AESGCM.generate_key(bit_length=256)
        wrapped = self._wrap_key(key_id, subject_id, controller, retention_class, material)
        self._db.execute(
            f"INSERT INTO data_keys({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (key_id, subject_id, controller, retention_class, wrapped),
        )
        self._made.append(key_id)
        return (key_id, subject_id, controller, retention_class, wrapped)

    @_reported
    def key_by_id(self, key_id: str) -> DataKey | None:
        # Always confirm the row: another process may have shredded the key since this
        # one cached it, and a shredded key must stop opening values at once everywhere.
        with self._lock:
            row = self._select_key("key_id = ?", (key_id,))
            if row is None:
                self._cache.discard(key_id)
                return None
        return self._unwrap(row)

    @_reported
    def keys_of(self, subject_id: str) -> list[DataKey]:
        with self._lock:
            rows = self._select_keys(subject_id)
            # keys shredded elsewhere since they were cached leave memory now
            held = {row[0] for row in rows}
            self._cache.drop(lambda key: key.subject_id == subject_id and key.key_id not in held)
        return [self._unwrap(row) for row in rows]

    def forget(self, subject_id: str | None = None) -> None:
        """Drop the subject's unwrapped keys from memory (every subject's with None)."""
        with self._lock:
            self._cache.drop(lambda key: subject_id is None or key.subject_id == subject_id)

    @_reported
    def has_identity(self, subject_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM identities WHERE subject_id = ?", (subject_id,)
            ).fetchone()
        return row is not None

    @_reported
    def fence_erased_subject(self, subject_id: str) -> None:
        with self.batch():
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
            self._refuse_in_batch("shred")
            # the write lock first: no key can be made for the subject between the
            # shredding and the fence (they commit together)
            with self.batch():
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
                    self._cache.discard(key.key_id)
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
            f"SELECT {KEY_COLUMNS} FROM data_keys WHERE subject_id = ? ORDER BY retention_class",
            (subject_id,),
        ).fetchall()
        return [(str(k), str(s), str(o), str(c), bytes(w)) for k, s, o, c, w in rows]

    def _select_key(self, where: str, args: tuple[str, ...]) -> _Row | None:
        row = self._db.execute(
            f"SELECT {KEY_COLUMNS} FROM data_keys WHERE {where}", args
        ).fetchone()
        if row is None:
            return None
        return (str(row[0]), str(row[1]), str(row[2]), str(row[3]), bytes(row[4]))

    def _unwrap(self, row: _Row) -> DataKey:
        key_id, subject_id, controller, retention_class, wrapped = row
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        context = (key_id, subject_id, controller, retention_class)
        material = self._wrap.unwrap(wrapped, str(self.path), DATA_KEY, *context)
        key = DataKey(key_id, subject_id, controller, retention_class, material)
        self._cache.keep(key)
        return key

    def _wrap_key(
        self, key_id: str, subject_id: str, controller: str, retention_class: str, material: bytes
    ) -> bytes:
        # the controller is bound too: a row moved to another controller does not open
        context = (key_id, subject_id, controller, retention_class)
        return self._wrap.wrap(material, DATA_KEY, *context)


def _new_subject_id() -> str:
    return "sub_" + uuid.uuid4().hex
