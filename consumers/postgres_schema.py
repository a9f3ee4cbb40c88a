"""Where the PostgreSQL projection store lives in its database: one schema per store, its
tables, and the advisory lock that makes the store's units of work run one at a time.

The tables mirror the SQLite store's (``consumers/sqlite_store.py``), so the canonical
dumps of the two are line for line the same for the same content. Keys, names and ids
are ``COLLATE "C"``: ordered by code point, as SQLite orders them, whatever the
database's locale.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, LiteralString

import psycopg
from psycopg import sql

DEFAULT_SCHEMA = "pdl"
#: what ``schema_for`` makes and the store accepts: a lower-case SQL name, unquoted
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_TABLES: tuple[LiteralString, ...] = (
    """CREATE TABLE IF NOT EXISTS tracking (
        application_name TEXT COLLATE "C" PRIMARY KEY, notification_id BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS states (
        projection TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL,
        state TEXT NOT NULL, PRIMARY KEY (projection, key)
    )""",
    """CREATE TABLE IF NOT EXISTS projection_versions (
        projection TEXT COLLATE "C" PRIMARY KEY, version TEXT NOT NULL
    )""",
    # "offset" is a reserved word in PostgreSQL
    """CREATE TABLE IF NOT EXISTS journal (
        subject_id TEXT COLLATE "C" NOT NULL, occurred_at TIMESTAMPTZ NOT NULL,
        event_id TEXT COLLATE "C" NOT NULL, recorded_ms BIGINT NOT NULL,
        topic TEXT COLLATE "C" NOT NULL, partition INTEGER NOT NULL,
        log_offset BIGINT NOT NULL, value BYTEA NOT NULL,
        PRIMARY KEY (subject_id, occurred_at, event_id)
    )""",
    """CREATE TABLE IF NOT EXISTS applied_events (event_id TEXT COLLATE "C" PRIMARY KEY)""",
)

Connection = psycopg.Connection[tuple[Any, ...]]


def schema_for(*names: str) -> str:
    """A schema name for a store named by ``names`` (say a log and a role): lower-case
    letters, digits and underscores, at most 63 bytes (a long name ends in a hash, so
    two long names stay apart)."""
    joined = "_".join(names)
    name = re.sub(r"[^a-z0-9_]", "_", joined.lower())
    if not name or name[0].isdigit():
        name = "s_" + name
    if len(name) > 63 or name != joined:
        digest = hashlib.blake2b(joined.encode(), digest_size=4).hexdigest()
        name = f"{name[:54]}_{digest}"
    return name


def lock_key(schema: str) -> int:
    """The advisory lock of the store in ``schema``: one key per schema, so stores in other
    schemas of the same database never wait on each other."""
    digest = hashlib.blake2b(f"pdl projection store {schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def use_schema(db: Connection, schema: str) -> None:
    """Point the connection's unqualified table names at the store's schema."""
    db.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))


def create_schema(db: Connection, schema: str) -> None:
    """The schema and its tables, made if missing, and the connection pointed at them."""
    # concurrent starts of several members would race on the catalog: one at a time
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(schema),))
        # asked first: CREATE SCHEMA IF NOT EXISTS needs the right to create one even
        # when a database administrator made it already
        found = "SELECT 1 FROM pg_namespace WHERE nspname = %s"
        if db.execute(found, (schema,)).fetchone() is None:
            db.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        use_schema(db, schema)
        for statement in _TABLES:
            db.execute(statement)
