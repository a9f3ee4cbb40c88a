"""The server projection store: PostgreSQL, so any number of consumers on any hosts share it.

The tables (``consumers/postgres_schema.py``) mirror the SQLite store's
(``consumers/sqlite_store.py``), so the canonical dumps of the two are line for line the
same for the same content, and a store moved from one to the other can be checked.
Checkpoints are eventsourcing tracking records (one row per group, topic and partition,
named ``group|topic|partition``, holding the last offset applied): the store is an
``eventsourcing.persistence.TrackingRecorder`` too. Keys, names and ids are
``COLLATE "C"``: ordered by code point, as SQLite orders them, whatever the database's
locale.

Concurrency. A unit of work is one READ COMMITTED transaction that first takes a
transaction-level advisory lock on the store (one key per schema): units of work on one
store run one at a time, as SQLite's ``BEGIN IMMEDIATE`` makes them, and the locks go
with the transaction, even if the client dies. Row locks (``SELECT ... FOR UPDATE`` on
the checkpoint and state rows) were the alternative, letting members on different
partitions commit in parallel, and they were rejected: the runner reads the states it
folds in log order, so two members folding the same keys (a subject's events on two
topics, the erasure register's one head) lock them in opposite orders; PostgreSQL breaks
such a deadlock by aborting one transaction, and the store cannot replay it, since the
fold is the caller's code. A serialisable retry loop needs the same replay. One lock per
store has no deadlock and no lost update, and the members' polling, decoding and network
work still runs in parallel; only the short write transaction is serial. Reads outside a
unit of work take no lock and see what is committed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from consumers.postgres_schema import (
    DEFAULT_SCHEMA,
    SCHEMA_NAME,
    Connection,
    create_schema,
    lock_key,
    schema_for,
    use_schema,
)
from consumers.sqlite_store import tracking_name
from consumers.store import (
    CheckpointConflict,
    JournalEntry,
    ProjectionStore,
    StaleProjections,
    StoreError,
    UnitOfWork,
    epoch_micros,
    journal_rows,
)
from ledger.log.base import TopicPartition

__all__ = [
    "DEFAULT_SCHEMA",
    "PostgreSQLProjectionStore",
    "PostgreSQLUnitOfWork",
    "schema_for",
]

#: rows read per query by ``states``: no connection is held while the caller iterates
_PAGE = 1000


def _max_tracking(db: Connection, name: str) -> int | None:
    row = db.execute(
        "SELECT notification_id FROM tracking WHERE application_name = %s", (name,)
    ).fetchone()
    return None if row is None else int(row[0])


def _insert_tracking(db: Connection, tracking: Tracking) -> None:
    # the caller holds the store's lock: nobody moves the row between the read and the write
    current = _max_tracking(db, tracking.application_name)
    if current is not None and tracking.notification_id <= current:
        raise IntegrityError(
            f"{tracking.application_name}: {tracking.notification_id} is not after {current}"
        )
    db.execute(
        "INSERT INTO tracking VALUES (%s, %s) ON CONFLICT (application_name) "
        "DO UPDATE SET notification_id = EXCLUDED.notification_id",
        (tracking.application_name, tracking.notification_id),
    )


class PostgreSQLUnitOfWork(UnitOfWork):
    def __init__(self, db: Connection) -> None:
        self._db = db

    def checkpoint(self, group: str, tp: TopicPartition) -> int:
        last = _max_tracking(self._db, tracking_name(group, tp))
        return 0 if last is None else last + 1

    def set_checkpoints(self, group: str, next_offsets: Mapping[TopicPartition, int]) -> None:
        # the caller holds the store's lock: nobody moves the rows between read and write
        names = {tracking_name(group, tp): tp for tp in next_offsets}
        current: dict[str, int] = dict(
            self._db.execute(
                "SELECT application_name, notification_id FROM tracking "
                "WHERE application_name = ANY(%s)",
                (list(names),),
            ).fetchall()
        )
        for name, tp in names.items():
            if name in current and next_offsets[tp] - 1 <= current[name]:
                raise CheckpointConflict(group, tp, next_offsets[tp], current[name] + 1)
        with self._db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO tracking VALUES (%s, %s) ON CONFLICT (application_name) "
                "DO UPDATE SET notification_id = EXCLUDED.notification_id",
                [(name, next_offsets[tp] - 1) for name, tp in names.items()],
            )

    def states_of(self, projection: str, keys: Collection[str]) -> dict[str, str]:
        rows = self._db.execute(
            "SELECT key, state FROM states WHERE projection = %s AND key = ANY(%s)",
            (projection, list(keys)),
        ).fetchall()
        return {str(key): str(state) for key, state in rows}

    def put_states(self, projection: str, states: Mapping[str, str]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO states VALUES (%s, %s, %s) ON CONFLICT (projection, key) "
                "DO UPDATE SET state = EXCLUDED.state",
                [(projection, key, state) for key, state in states.items()],
            )

    def journal_many(self, entries: Sequence[JournalEntry]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO journal VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                # psycopg sends a datetime as a timestamptz itself
                journal_rows(entries, lambda at: at),
            )

    def record_applied_many(self, event_ids: Sequence[str]) -> set[str]:
        rows = self._db.execute(
            "INSERT INTO applied_events SELECT DISTINCT unnest(%s::text[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id",
            (list(event_ids),),
        ).fetchall()
        return {str(row[0]) for row in rows}


class PostgreSQLProjectionStore(ProjectionStore, TrackingRecorder):
    """The store in ``schema`` (created with its tables if missing) of the database at
    ``url`` (a libpq URL or key=value string), through a pool of up to ``max_connections``."""

    def __init__(self, url: str, schema: str = DEFAULT_SCHEMA, max_connections: int = 4) -> None:
        if not SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema {schema!r} is not a lower-case SQL name (see schema_for)")
        self.schema = schema
        self.where = _describe(url, schema)
        self._lock = lock_key(schema)
        self._pool: ConnectionPool[Connection] | None = None
        with self._translated():
            # a plain connection first: a wrong URL fails now, with libpq's own reason,
            # rather than as a pool timeout
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as db:
                create_schema(db, schema)
            self._pool = ConnectionPool(
                url,
                min_size=1,
                max_size=max_connections,
                kwargs={"autocommit": True, "connect_timeout": 10},
                configure=self._configure,
                # a pooled connection may be dead after a server restart: test it on loan
                check=ConnectionPool.check_connection,
                num_workers=2,
                open=False,
            )
            self._pool.open(wait=True, timeout=30)

    def _configure(self, db: Connection) -> None:
        use_schema(db, self.schema)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """psycopg's and the pool's errors as ``StoreError``, with a fix."""
        try:
            yield
        except psycopg.Error as exc:
            raise _store_error(exc, self.where) from exc

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        if self._pool is None or self._pool.closed:
            raise StoreError(f"the projection store {self.where} is closed", "open it again")
        with self._translated(), self._pool.connection() as db:
            yield db

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        """A transaction holding the store's lock (see the module's docstring)."""
        with self._connection() as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock,))
            yield db

    @contextmanager
    def unit_of_work(self) -> Iterator[PostgreSQLUnitOfWork]:
        with self._locked() as db:
            yield PostgreSQLUnitOfWork(db)

    def check_versions(self, versions: Mapping[str, str]) -> None:
        with self._locked() as db:
            stored = dict(db.execute("SELECT projection, version FROM projection_versions"))
            used = db.execute("SELECT 1 FROM tracking LIMIT 1").fetchone() is not None
            stale = sorted(n for n, v in versions.items() if n in stored and stored[n] != v)
            if stale or (used and any(n not in stored for n in versions)):
                raise StaleProjections(self.where, stale or sorted(set(versions) - set(stored)))
            with db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO projection_versions VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    list(versions.items()),
                )

    # eventsourcing's TrackingRecorder interface
    def insert_tracking(self, tracking: Tracking) -> None:
        with self._locked() as db:
            _insert_tracking(db, tracking)

    def max_tracking_id(self, application_name: str) -> int | None:
        with self._connection() as db:
            return _max_tracking(db, application_name)

    # reading
    def checkpoint(self, group: str, tp: TopicPartition) -> int:
        with self._connection() as db:
            return PostgreSQLUnitOfWork(db).checkpoint(group, tp)

    def checkpoints(self, group: str) -> dict[TopicPartition, int]:
        with self._connection() as db:
            rows = db.execute(
                "SELECT application_name, notification_id FROM tracking "
                "WHERE starts_with(application_name, %s)",
                (group + "|",),
            ).fetchall()
        found = {}
        for name, last in rows:
            owner, topic, partition = str(name).rsplit("|", 2)
            if owner == group:  # not group "a|b" when asked for "a"
                found[TopicPartition(topic, int(partition))] = int(last) + 1
        return found

    def state(self, projection: str, key: str) -> str | None:
        with self._connection() as db:
            return PostgreSQLUnitOfWork(db).state(projection, key)

    def states(self, projection: str) -> Iterator[tuple[str, str]]:
        return self._states_from(projection, "", None)

    def states_with_prefix(self, projection: str, prefix: str) -> Iterator[tuple[str, str]]:
        # a range on the primary key: U+10FFFF sorts after any character a key may hold
        return self._states_from(projection, prefix, prefix + "\U0010ffff")

    def _states_from(
        self, projection: str, low: str, high: str | None
    ) -> Iterator[tuple[str, str]]:
        """Keyset pages: each query starts after the last key read, on its own connection."""
        after: str | None = None
        while True:
            with self._connection() as db:
                rows = db.execute(
                    "SELECT key, state FROM states WHERE projection = %(p)s AND key >= %(low)s "
                    "AND (%(high)s::text IS NULL OR key < %(high)s) "
                    "AND (%(after)s::text IS NULL OR key > %(after)s) "
                    "ORDER BY key LIMIT %(page)s",
                    {"p": projection, "low": low, "high": high, "after": after, "page": _PAGE},
                ).fetchall()
            for key, state in rows:
                yield str(key), str(state)
            if len(rows) < _PAGE:
                return
            after = str(rows[-1][0])

    def journal(self, subject_id: str, until: datetime | None = None) -> list[JournalEntry]:
        with self._connection() as db:
            rows = db.execute(
                "SELECT occurred_at, event_id, recorded_ms, topic, partition, log_offset, value "
                "FROM journal WHERE subject_id = %s "
                "AND (%s::timestamptz IS NULL OR occurred_at <= %s) "
                "ORDER BY occurred_at, event_id",
                (subject_id, until, until),
            ).fetchall()
        return [
            JournalEntry(
                subject_id, at.astimezone(UTC), str(e), int(r), str(t), int(p), int(o), bytes(v)
            )
            for at, e, r, t, p, o, v in rows
        ]

    def canonical_dump(self) -> Iterator[str]:
        # one snapshot for the three tables, read through server-side cursors
        with (
            self._connection() as db,
            db.transaction(),
        ):
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            with db.cursor("tracking") as rows:
                rows.execute("SELECT * FROM tracking ORDER BY 1")
                for name, last in rows:
                    yield f"tracking\t{name}\t{last}"
            with db.cursor("states") as rows:
                rows.execute("SELECT * FROM states ORDER BY 1, 2")
                for projection, key, state in rows:
                    yield f"state\t{projection}\t{key}\t{state}"
            with db.cursor("journal") as rows:
                rows.execute("SELECT * FROM journal ORDER BY 1, 2, 3")
                for subject_id, at, *fields, value in rows:
                    line = [subject_id, epoch_micros(at), *fields]
                    yield "journal\t" + "\t".join(str(f) for f in line) + "\t" + bytes(value).hex()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def _describe(url: str, schema: str) -> str:
    """The database for messages: host, port, database and schema, never the password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return f"(an unreadable PostgreSQL URL), schema {schema}"
    host = params.get("host") or "localhost"
    port = params.get("port") or 5432
    return f"postgresql://{host}:{port}/{params.get('dbname') or ''} (schema {schema})"


_FIXES = {
    "08": "check that PostgreSQL runs and accepts connections from this host at that address "
    "(and the user and password in the URL), then retry",
    "28": "check the user and password in the URL (--store or PDL_STORE)",
    "3D": "create the database, or name an existing one in the URL",
    "40": "retry: another transaction conflicted with this one",
    "42": "grant the URL's user the right to create a schema and tables in that database",
    "53": "the database server is out of resources (disk, memory, connections): free some, "
    "then retry",
    "57": "the database server is shutting down or was restarted: retry when it is back",
}


def _store_error(exc: psycopg.Error, where: str) -> StoreError:
    # the primary message only: a server's DETAIL may quote the values of a row
    state = exc.sqlstate or ""
    primary = exc.diag.message_primary if state else None
    reason = primary or str(exc).splitlines()[0]
    fix = _FIXES.get(state[:2], _FIXES["08"] if not state else "see the database server's log")
    return StoreError(
        f"the projection store {where} failed: {type(exc).__name__}"
        f"{f' [{state}]' if state else ''}: {reason}",
        fix,
    )
