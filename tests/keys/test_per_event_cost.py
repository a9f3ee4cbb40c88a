"""Issue 16: what the key store does per event was made cheaper (fewer statements, the
lookup's keyed HMAC state made once, ids without ``uuid.UUID``) without changing what it
writes: the ids keep their format, lookups stay the bytes earlier stores hold, and a
call that fails half-way leaves nothing behind in its batch."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.contract.base import SUBJECT_ID_PATTERN, new_event_id, random_uuid_hex
from ledger.keys.sqlite_store import SQLiteKeyStore
from ledger.keys.store import KeyStoreError

CONTROLLER = "controller-a"


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[SQLiteKeyStore]:
    store = SQLiteKeyStore(tmp_path / "keys.sqlite", secrets.token_bytes(32))
    yield store
    store.close()


def _is_random_uuid(value: uuid.UUID) -> bool:
    return value.version == 4 and value.variant == uuid.RFC_4122


def test_ids_keep_the_format_of_uuid4(keys: SQLiteKeyStore) -> None:
    for _ in range(200):
        event_id = new_event_id()
        assert str(uuid.UUID(event_id)) == event_id and _is_random_uuid(uuid.UUID(event_id))
        digits = random_uuid_hex()
        assert uuid.UUID(digits).hex == digits and _is_random_uuid(uuid.UUID(digits))
        subject = keys.new_subject()
        assert re.fullmatch(SUBJECT_ID_PATTERN, subject)
        assert _is_random_uuid(uuid.UUID(subject.removeprefix("sub_")))
    key = keys.data_key(keys.assign_subject(keys.new_subject(), CONTROLLER), "marketing")
    assert uuid.UUID(key.key_id).hex == key.key_id and _is_random_uuid(uuid.UUID(key.key_id))


def test_ids_do_not_repeat() -> None:
    assert len({new_event_id() for _ in range(10_000)}) == 10_000


def _lookup_as_written_before(keys: SQLiteKeyStore, natural_id: str, controller: str) -> bytes:
    """The lookup as the store computed it before issue 16 (one ``hmac.new`` per call)."""
    message = b"\x00".join((controller.encode(), natural_id.encode()))
    return hmac.new(keys._lookup_key, message, hashlib.sha256).digest()


def test_lookups_are_the_bytes_earlier_stores_hold(keys: SQLiteKeyStore) -> None:
    natural = "camille.martin@example.fr"
    subject = keys.assign_subject(keys.new_subject(), CONTROLLER, natural)
    (lookup,) = keys._db.execute(
        "SELECT lookup FROM identities WHERE subject_id = ?", (subject,)
    ).fetchone()
    assert bytes(lookup) == _lookup_as_written_before(keys, natural, CONTROLLER)
    earlier = keys.new_subject()  # a mapping an earlier version wrote
    with keys.batch():
        keys.assign_subject(earlier, CONTROLLER)
        keys._db.execute(
            "INSERT INTO identities(lookup, subject_id) VALUES (?, ?)",
            (_lookup_as_written_before(keys, "1042-ÉLODIE", CONTROLLER), earlier),
        )
    assert keys.subject_for("1042-ÉLODIE", CONTROLLER) == earlier
    assert keys.subjects_known_as("1042-ÉLODIE") == {CONTROLLER: earlier}


class _FailingSubjectInsert:
    """The store's connection, failing the insert of a subject as a full disk would."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, statement: str, *args: Any) -> sqlite3.Cursor:
        if statement.startswith("INSERT OR IGNORE INTO subjects"):
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(statement, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_a_new_person_failing_half_way_leaves_no_identity_in_the_batch(
    keys: SQLiteKeyStore,
) -> None:
    real = keys._db
    with keys.batch():
        keys._db = _FailingSubjectInsert(real)  # type: ignore[assignment]
        with pytest.raises(KeyStoreError, match="disk is full"):
            keys.assign_subject(keys.new_subject(), CONTROLLER, "alix@example.fr")
        keys._db = real
        assert keys.subject_for("alix@example.fr", CONTROLLER) is None
        kept = keys.assign_subject(keys.new_subject(), CONTROLLER, "dominique@example.fr")
    assert keys.subject_for("alix@example.fr", CONTROLLER) is None
    assert real.execute("SELECT count(*) FROM identities").fetchone() == (1,)
    assert keys.subject_for("dominique@example.fr", CONTROLLER) == kept
