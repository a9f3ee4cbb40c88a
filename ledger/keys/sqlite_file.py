"""The embedded key store's file (``SQLiteKeyStore``): opened under its master key, and
written in batches.

Every write runs under the write lock of a batch: the caller's open batch, which commits
once for all of its writes, or a batch of its own (one durable commit). A write of more
than one statement is a savepoint of the batch, so that a call that fails leaves none of
its writes behind; a write of one statement needs none (SQLite undoes a failed statement).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from ledger.errors import Conflict
from ledger.keys.key_cache import UnwrappedKeys
from ledger.keys.sqlite_schema import (
    LOOKUP_SECRET,
    SCHEMA_VERSION,
    create_or_upgrade,
    schema_version,
)
from ledger.keys.store import KeyStore, KeyStoreError
from ledger.keys.wrapping import MasterWrap, wrong_master_key

# A restored backup brings shredded keys back: hence `pdl certificates reapply` in the fix.
FIX = (
    "is the disk full, or the file damaged or locked by another program? Free space or "
    "stop that program; if the file is damaged, restore it from backup, then run "
    "`pdl certificates reapply`"
)
P = ParamSpec("P")
R = TypeVar("R")
File = TypeVar("File", bound="SQLiteKeyFile")


def reported(method: Callable[Concatenate[File, P], R]) -> Callable[Concatenate[File, P], R]:
    """The method, with SQLite's errors raised as the port's ``KeyStoreError``."""

    @functools.wraps(method)
    def reported(store: File, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(store, *args, **kwargs)
        except sqlite3.Error as exc:
            raise KeyStoreError(f"the key store {store.path}: {exc}", FIX) from exc

    return reported


class SQLiteKeyFile(KeyStore):
    """The connection, the master key it was opened with, and the batches."""

    @reported
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
            raise KeyStoreError(f"the key store {self.path} has no master key record", FIX)
        if str(row[0]) != self._wrap.key_id:
            raise wrong_master_key(f"the key store {self.path}", str(row[0]), self._wrap.key_id)
        return self._wrap.unwrap(bytes(row[1]), f"the key store {self.path}", LOOKUP_SECRET)

    @property
    def master_key_id(self) -> str:
        """The id of the master key that wraps this store's keys."""
        return self._wrap.key_id

    @reported
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
        store as it was before it. A nested block, and each write of several statements
        inside, is a savepoint of that transaction: leaving it by an exception undoes its
        writes only, so a refused call leaves nothing half-written in the batch. The block
        holds this store's lock: other threads wait for its end."""
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

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Under the write lock: the caller's open batch as it is (a write of one
        statement needs no savepoint, and one of several takes its own), or a batch of
        its own, one durable commit."""
        with self._lock:
            if self._depth:
                yield
                return
            with self.batch():
                yield

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
            raise KeyStoreError(f"the key store {self.path}: {exc}", FIX) from exc

    def _refuse_in_batch(self, operation: str) -> None:
        if self._depth:
            raise Conflict(
                f"the key store {self.path}: {operation} cannot run inside a batch, which "
                "commits only when its block ends: what it destroys or rewraps must be "
                "durable, and folded out of the write-ahead log, when it returns",
                f"call {operation} after the `with keys.batch():` block",
            )

    @reported
    def close(self) -> None:
        with self._lock:
            self._cache.clear()
        self._db.close()
