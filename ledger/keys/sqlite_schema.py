"""The embedded key store's tables (``SQLiteKeyStore``), and the upgrade of an older
store's files when it is opened.

``PRAGMA user_version`` says which schema a file holds. Version 2 (no master key record,
lookups keyed by a secret derived from the master key) is upgraded in place; a store
written by pdl 0.1 (version 0 with tables) is refused, as is one newer than this code.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
from pathlib import Path

from cryptography.exceptions import InvalidTag

from ledger.errors import ConfigError
from ledger.keys.master import MasterKeyError
from ledger.keys.wrapping import MasterWrap

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
DATA_KEY, LOOKUP_SECRET = "pdl-wrap-v3", "pdl-lookup-secret-v3"
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

KEY_COLUMNS = "key_id, subject_id, controller, retention_class, wrapped"

_UPGRADED_FROM = 2


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


def create_or_upgrade(
    db: sqlite3.Connection, path: Path, wrap: MasterWrap, master_key: bytes
) -> None:
    """Create a new store's tables, or upgrade a version 2 store's, in one transaction:
    another process opening the store meanwhile sees all or none."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(db, path)  # again: another process may have been first
        if version == 0:
            _run(db, _SCHEMA)
            secret = os.urandom(32)
        elif version == _UPGRADED_FROM:
            _run(db, _MASTER_TABLE)
            secret = hmac.new(master_key, b"pdl-identity-lookup", hashlib.sha256).digest()
            _rewrap_legacy_keys(db, path, wrap)
        if version != SCHEMA_VERSION:
            db.execute(
                "INSERT INTO master(one, master_key_id, wrapped_lookup_secret) VALUES (1, ?, ?)",
                (wrap.key_id, wrap.wrap(secret, LOOKUP_SECRET)),
            )
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _run(db: sqlite3.Connection, script: str) -> None:
    """Each statement of ``script`` in the open transaction (``executescript`` would
    commit it first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


def _rewrap_legacy_keys(db: sqlite3.Connection, path: Path, wrap: MasterWrap) -> None:
    """Schema 2's keys (no master key id in the format) rewrapped in schema 3's; a
    master key that opens none of them is refused before anything is written."""
    for row in db.execute(f"SELECT {KEY_COLUMNS} FROM data_keys").fetchall():
        key_id, subject_id, controller, retention_class, wrapped = row
        context = (str(key_id), str(subject_id), str(controller), str(retention_class))
        ad = "\x00".join(("pdl-wrap-v2", *context)).encode()
        try:
            material = wrap.unwrap_legacy(bytes(wrapped), ad)
        except InvalidTag:
            raise MasterKeyError(
                f"the master key does not open the keys of {path} (schema 2, being "
                "upgraded): nothing was changed",
                "set PDL_MASTER_KEY (or PDL_MASTER_KEY_FILE) to the key the store was created with",
            ) from None
        db.execute(
            "UPDATE data_keys SET wrapped = ? WHERE key_id = ?",
            (wrap.wrap(material, DATA_KEY, *context), key_id),
        )


def schema_version(db: sqlite3.Connection, path: Path) -> int:
    """The store's schema version (0: new); one this code cannot read is refused."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version in (SCHEMA_VERSION, _UPGRADED_FROM):
        return int(version)
    if version > SCHEMA_VERSION:
        raise KeyStoreVersionError(
            f"the key store {path} has schema version {version}, newer than this "
            f"pdl's {SCHEMA_VERSION}",
            "run the pdl version that wrote it (or a newer one)",
        )
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    if "data_keys" in tables or "identities" in tables:
        raise _refuse_0_1(path)
    return 0
