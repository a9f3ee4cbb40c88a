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

The store is three layers of one class: its file and batches (``sqlite_file``), its
subjects, identity lookups and erasure fence (``sqlite_subjects``), and, here, its data
keys, their shredding and the master key's rotation. Every write runs under the write
lock of a batch: a block of its own (one durable commit), or the caller's open batch,
which commits once for all of its writes. Under that lock what a write decides on is
read in one statement, and nothing is written before the call is known not to be
refused.
"""

from __future__ import annotations

from collections.abc import Collection

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.contract.base import random_uuid_hex
from ledger.keys.sqlite_file import reported
from ledger.keys.sqlite_schema import DATA_KEY, KEY_COLUMNS, LOOKUP_SECRET
from ledger.keys.sqlite_subjects import FENCE, SQLiteSubjects
from ledger.keys.store import (
    DataKey,
    KeyStoreError,
    ShreddedKey,
    SubjectErased,
    UnknownSubject,
)
from ledger.keys.wrapping import MasterWrap

_Row = tuple[str, str, str, str, bytes]
# what data_key decides on, in one statement: the subject's fence, its owner, and its
# key for the class if there is one
_KEY_STATE = """
SELECT EXISTS (SELECT 1 FROM erased_subjects AS e WHERE e.subject_id = ?1),
       (SELECT s.controller FROM subjects AS s WHERE s.subject_id = ?1),
       k.key_id, k.controller, k.wrapped
FROM (SELECT 1) LEFT JOIN data_keys AS k ON k.subject_id = ?1 AND k.retention_class = ?2
"""
_NEW_KEY = f"INSERT INTO data_keys({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?)"


class SQLiteKeyStore(SQLiteSubjects):
    #: seconds a shred waits for readers holding an old snapshot before it fails
    checkpoint_wait_s = 5.0

    @reported
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

    @reported
    def data_key(self, subject_id: str, retention_class: str) -> DataKey:
        with self._lock:
            if self._depth:  # the open batch holds the write lock: what is read stays so
                return self._key_for(subject_id, retention_class)
            # reads first: the key usually exists, and reading takes no write lock
            fenced, _, row = self._key_state(subject_id, retention_class)
            if fenced:
                raise SubjectErased(subject_id)
            if row is not None:
                return self._unwrap(row)
            with self.batch():
                # again under the write lock: another writer may have made the key,
                # or shredded and fenced the subject, since the reads above
                return self._key_for(subject_id, retention_class)

    def _key_for(self, subject_id: str, retention_class: str) -> DataKey:
        """The key, made if there is none; under the write lock."""
        fenced, owner, row = self._key_state(subject_id, retention_class)
        if fenced:
            raise SubjectErased(subject_id)
        if row is not None:
            return self._unwrap(row)
        if owner is None:
            raise UnknownSubject(subject_id)
        return self._make_key(subject_id, owner, retention_class)

    def _key_state(
        self, subject_id: str, retention_class: str
    ) -> tuple[bool, str | None, _Row | None]:
        """Whether the subject is fenced, its controller, and its key's row for the class."""
        fenced, owner, key_id, controller, wrapped = self._db.execute(
            _KEY_STATE, (subject_id, retention_class)
        ).fetchone()
        row = (
            None
            if key_id is None
            else (str(key_id), subject_id, str(controller), retention_class, bytes(wrapped))
        )
        return bool(fenced), None if owner is None else str(owner), row

    def _make_key(self, subject_id: str, controller: str, retention_class: str) -> DataKey:
        key_id = random_uuid_hex()
        material = AESGCM.generate_key(bit_length=256)
        wrapped = self._wrap_key(key_id, subject_id, controller, retention_class, material)
        # one statement: if it fails, SQLite undoes it, and the batch holds nothing of it
        self._db.execute(_NEW_KEY, (key_id, subject_id, controller, retention_class, wrapped))
        self._made.append(key_id)
        key = DataKey(key_id, subject_id, controller, retention_class, material)
        self._cache.keep(key)
        return key

    @reported
    def key_by_id(self, key_id: str) -> DataKey | None:
        # Always confirm the row: another process may have shredded the key since this
        # one cached it, and a shredded key must stop opening values at once everywhere.
        with self._lock:
            row = self._select_key("key_id = ?", (key_id,))
            if row is None:
                self._cache.discard(key_id)
                return None
        return self._unwrap(row)

    @reported
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

    @reported
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
                    self._db.execute(FENCE, (subject_id,))
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
