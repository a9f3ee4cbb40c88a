"""The embedded key store's subjects (``SQLiteKeyStore``): each subject id's controller,
the identity lookups that map a (controller, natural identifier) to it, and the erasure
fence.

A lookup is an HMAC of the controller and the natural identifier under the store's
lookup secret: the store never holds the identifier, and the ids of two controllers
cannot be joined without the master key that wraps the secret. The intake asks for a
lookup for every event that names a person, so the HMAC's keyed state is made once and
copied per lookup.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from ledger.contract.base import random_uuid_hex
from ledger.keys.sqlite_file import SQLiteKeyFile, reported
from ledger.keys.store import SubjectErased, SubjectOfAnotherController

_SUBJECT_OF_LOOKUP = "SELECT subject_id FROM identities WHERE lookup = ?"
# what assign_subject decides on, in one statement: the id in force (the one the lookup
# already maps to, else the one given), whether the lookup maps to it, its fence, its owner
_ASSIGNMENT = """
SELECT chosen.subject_id, chosen.mapped,
       EXISTS (SELECT 1 FROM erased_subjects AS e WHERE e.subject_id = chosen.subject_id),
       (SELECT s.controller FROM subjects AS s WHERE s.subject_id = chosen.subject_id)
FROM (
    SELECT coalesce(i.subject_id, ?2) AS subject_id, i.subject_id IS NOT NULL AS mapped
    FROM (SELECT 1) LEFT JOIN identities AS i ON i.lookup = ?1
) AS chosen
"""
_NEW_IDENTITY = "INSERT OR IGNORE INTO identities(lookup, subject_id) VALUES (?, ?)"
_NEW_SUBJECT = "INSERT OR IGNORE INTO subjects(subject_id, controller) VALUES (?, ?)"
FENCE = "INSERT OR IGNORE INTO erased_subjects(subject_id) VALUES (?)"


class SQLiteSubjects(SQLiteKeyFile):
    """Subjects, identity lookups and the erasure fence, in the key store's file."""

    def __init__(self, path: Path, master_key: bytes) -> None:
        super().__init__(path, master_key)
        # the lookup secret's keyed HMAC state (rotate_master rewraps the secret, never
        # changes it)
        self._lookups = hmac.new(self._lookup_key, digestmod=hashlib.sha256)

    def _lookup(self, natural_id: str, controller: str) -> bytes:
        # one lookup per (controller, identifier): the same person at two controllers
        # gives two unrelated lookups, and so two unrelated subject ids
        lookup = self._lookups.copy()
        lookup.update(f"{controller}\x00{natural_id}".encode())
        return lookup.digest()

    @reported
    def subject_for(self, natural_id: str, controller: str) -> str | None:
        lookup = self._lookup(natural_id, controller)
        with self._lock:
            row = self._db.execute(_SUBJECT_OF_LOOKUP, (lookup,)).fetchone()
        return None if row is None else str(row[0])

    @reported
    def subjects_known_as(self, natural_id: str) -> dict[str, str]:
        found = {}
        with self._lock:
            controllers = [
                str(r[0]) for r in self._db.execute("SELECT DISTINCT controller FROM subjects")
            ]
            for controller in controllers:
                row = self._db.execute(
                    _SUBJECT_OF_LOOKUP, (self._lookup(natural_id, controller),)
                ).fetchone()
                if row is not None:
                    found[controller] = str(row[0])
        return found

    @reported
    def assign_subject(
        self, subject_id: str, controller: str, natural_id: str | None = None
    ) -> str:
        lookup = None if natural_id is None else self._lookup(natural_id, controller)
        with self._writing():
            return self._assign(subject_id, controller, lookup)

    def _assign(self, subject_id: str, controller: str, lookup: bytes | None) -> str:
        # read first, under the write lock: a refused call has written nothing
        chosen, mapped, fenced, owner = self._db.execute(
            _ASSIGNMENT, (lookup, subject_id)
        ).fetchone()
        subject_id = str(chosen)
        if fenced:
            raise SubjectErased(subject_id)
        if owner is not None and owner != controller:
            raise SubjectOfAnotherController(subject_id, str(owner))
        new_identity = lookup is not None and not mapped
        if new_identity and owner is None:
            with self.batch():  # two writes: neither stays without the other
                self._db.execute(_NEW_IDENTITY, (lookup, subject_id))
                self._db.execute(_NEW_SUBJECT, (subject_id, controller))
        elif new_identity:
            self._db.execute(_NEW_IDENTITY, (lookup, subject_id))
        elif owner is None:
            self._db.execute(_NEW_SUBJECT, (subject_id, controller))
        return subject_id

    @reported
    def controller_of(self, subject_id: str) -> str | None:
        with self._lock:
            return self._owner(subject_id)

    def _owner(self, subject_id: str) -> str | None:
        row = self._db.execute(
            "SELECT controller FROM subjects WHERE subject_id = ?", (subject_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def new_subject(self) -> str:
        return "sub_" + random_uuid_hex()

    @reported
    def has_identity(self, subject_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM identities WHERE subject_id = ?", (subject_id,)
            ).fetchone()
        return row is not None

    @reported
    def fence_erased_subject(self, subject_id: str) -> None:
        with self._writing():
            self._db.execute(FENCE, (subject_id,))

    @reported
    def is_erased_subject(self, subject_id: str) -> bool:
        with self._lock:
            return self._fenced(subject_id)

    def _fenced(self, subject_id: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM erased_subjects WHERE subject_id = ?", (subject_id,)
        ).fetchone()
        return row is not None
