"""The embedded projection store: SQLite, checkpoints committed with the state they cover.

Checkpoints are the eventsourcing library's tracking records: the application name is
``group|topic|partition`` and the notification id the last offset applied, so the store
is an ``eventsourcing.persistence.TrackingRecorder`` and passes that interface's own test
case, as well as the port's (``consumers/store_testcase.py``). A unit of work is one
``BEGIN IMMEDIATE`` transaction, so it excludes other processes' units of work on the
same file until it ends.

The journal keeps every applied subject event (ciphertext as on the log, no plaintext)
indexed by subject and valid time, so a subject's state at a past instant can be folded
again without reading the whole log.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder

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

#: ``states`` is a rowid table: its rows (a state's text, KiB each) are far larger than
#: the small rows a WITHOUT ROWID table suits, and rewriting them there cost a rebuild
#: about 45% more CPU (measured: every state of a 100,000-event log rewritten six times
#: in batches, 8.9 s against 5.0 s). A store made before keeps its WITHOUT ROWID table:
#: both answer the same statements.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tracking (
    application_name TEXT PRIMARY KEY, notification_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS states (
    projection TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (projection, key)
);
CREATE TABLE IF NOT EXISTS projection_versions (
    projection TEXT PRIMARY KEY, version TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal (
    subject_id TEXT NOT NULL, occurred_us INTEGER NOT NULL, event_id TEXT NOT NULL,
    recorded_ms INTEGER NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
    offset INTEGER NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (subject_id, occurred_us, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS applied_events (event_id TEXT PRIMARY KEY) WITHOUT ROWID;
"""


def tracking_name(group: str, tp: TopicPartition) -> str:
    return f"{group}|{tp.topic}|{tp.partition}"


def _max_tracking(db: sqlite3.Connection, name: str) -> int | None:
    row = db.execute(
        "SELECT notification_id FROM tracking WHERE application_name = ?", (name,)
    ).fetchone()
    return None if row is None else int(row[0])


def _insert_tracking(db: sqlite3.Connection, tracking: Tracking) -> None:
    current = _max_tracking(db, tracking.application_name)
    if current is not None and tracking.notification_id <= current:
        raise IntegrityError(
            f"{tracking.application_name}: {tracking.notification_id} is not after {current}"
        )
    db.execute(
        "INSERT OR REPLACE INTO tracking VALUES (?, ?)",
        (tracking.application_name, tracking.notification_id),
    )


#: keys per ``IN (...)`` list: well under SQLite's limit on a statement's parameters
_CHUNK = 500


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(count: int) -> str:
    return ",".join("?" * count)


class SQLiteUnitOfWork(UnitOfWork):
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def checkpoint(self, group: str, tp: TopicPartition) -> int:
        last = _max_tracking(self._db, tracking_name(group, tp))
        return 0 if last is None else last + 1

    def set_checkpoints(self, group: str, next_offsets: Mapping[TopicPartition, int]) -> None:
        names = {tracking_name(group, tp): tp for tp in next_offsets}
        current: dict[str, int] = {}
        for chunk in _chunks(list(names)):
            current.update(
                self._db.execute(
                    "SELECT application_name, notification_id FROM tracking "
                    f"WHERE application_name IN ({_marks(len(chunk))})",
                    chunk,
                )
            )
        for name, tp in names.items():
            if name in current and next_offsets[tp] - 1 <= current[name]:
                raise CheckpointConflict(group, tp, next_offsets[tp], current[name] + 1)
        self._db.executemany(
            "INSERT OR REPLACE INTO tracking VALUES (?, ?)",
            [(name, next_offsets[tp] - 1) for name, tp in names.items()],
        )

    def states_of(self, projection: str, keys: Collection[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(list(keys)):
            found.update(
                self._db.execute(
                    "SELECT key, state FROM states "
                    f"WHERE projection = ? AND key IN ({_marks(len(chunk))})",
                    (projection, *chunk),
                )
            )
        return found

    def put_states(self, projection: str, states: Mapping[str, str]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO states VALUES (?, ?, ?)",
            [(projection, key, state) for key, state in states.items()],
        )

    def journal_many(self, entries: Sequence[JournalEntry]) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO journal VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            journal_rows(entries, epoch_micros),
        )

    def record_applied_many(self, event_ids: Sequence[str]) -> set[str]:
        fresh = set(event_ids)
        for chunk in _chunks(list(fresh)):
            fresh.difference_update(
                row[0]
                for row in self._db.execute(
                    f"SELECT event_id FROM applied_events WHERE event_id IN ({_marks(len(chunk))})",
                    chunk,
                )
            )
        self._db.executemany("INSERT INTO applied_events VALUES (?)", [(e,) for e in fresh])
        return fresh


_FIX = (
    "is the disk full, or the file damaged or locked by another program? Free space or "
    "stop that program; if the file is damaged, restore it from backup or run `pdl "
    "rebuild` (it builds the projections again from the log)"
)


@contextmanager
def _reported(path: Path) -> Iterator[None]:
    """SQLite's errors raised as the port's ``StoreError``, naming the file and the fix
    (the with-block form, for generators and units of work: a decorator would let what
    they raise after their first ``yield`` through)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"the projection store {path}: {exc}", _FIX) from exc


P = ParamSpec("P")
R = TypeVar("R")


def _reporting(
    method: Callable[Concatenate[SQLiteProjectionStore, P], R],
) -> Callable[Concatenate[SQLiteProjectionStore, P], R]:
    """The method, with SQLite's errors raised as the port's ``StoreError``."""

    @functools.wraps(method)
    def reporting(store: SQLiteProjectionStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with _reported(store.path):
            return method(store, *args, **kwargs)

    return reporting


class SQLiteProjectionStore(ProjectionStore, TrackingRecorder):
    def __init__(self, path: Path, synced: bool = True) -> None:
        """``synced``: every commit survives a power loss (fsync per commit). A store that
        can be rebuilt from its own checkpoints (a rebuild's file) may lose its last
        commits to a power loss instead: in WAL mode it stays consistent, and resumes
        from an earlier checkpoint. Its ``close`` still syncs it whole."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with _reported(path):
            self._db = sqlite3.connect(
                path, timeout=60, isolation_level=None, check_same_thread=False
            )
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute(f"PRAGMA synchronous = {'FULL' if synced else 'NORMAL'}")
                self._db.executescript(_SCHEMA)
            except BaseException:
                self._db.close()
                raise

    @contextmanager
    def unit_of_work(self) -> Iterator[SQLiteUnitOfWork]:
        with _reported(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteUnitOfWork(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def check_versions(self, versions: Mapping[str, str]) -> None:
        with self.unit_of_work():
            stored = dict(self._db.execute("SELECT projection, version FROM projection_versions"))
            used = self._db.execute("SELECT 1 FROM tracking LIMIT 1").fetchone() is not None
            stale = sorted(n for n, v in versions.items() if n in stored and stored[n] != v)
            if stale or (used and any(n not in stored for n in versions)):
                raise StaleProjections(str(self.path), stale or sorted(set(versions) - set(stored)))
            self._db.executemany(
                "INSERT OR IGNORE INTO projection_versions VALUES (?, ?)", versions.items()
            )

    # eventsourcing's TrackingRecorder interface
    def insert_tracking(self, tracking: Tracking) -> None:
        with self.unit_of_work():
            _insert_tracking(self._db, tracking)

    @_reporting
    def max_tracking_id(self, application_name: str) -> int | None:
        return _max_tracking(self._db, application_name)

    # reading
    @_reporting
    def checkpoint(self, group: str, tp: TopicPartition) -> int:
        return SQLiteUnitOfWork(self._db).checkpoint(group, tp)

    @_reporting
    def state(self, projection: str, key: str) -> str | None:
        return SQLiteUnitOfWork(self._db).state(projection, key)

    def states(self, projection: str) -> Iterator[tuple[str, str]]:
        with _reported(self.path):
            rows = self._db.execute(
                "SELECT key, state FROM states WHERE projection = ? ORDER BY key", (projection,)
            )
            for key, state in rows:
                yield str(key), str(state)

    def states_with_prefix(self, projection: str, prefix: str) -> Iterator[tuple[str, str]]:
        # a range on the primary key: U+10FFFF sorts after any character a key may hold
        with _reported(self.path):
            rows = self._db.execute(
                "SELECT key, state FROM states WHERE projection = ? AND key >= ? AND key < ? "
                "ORDER BY key",
                (projection, prefix, prefix + "\U0010ffff"),
            )
            for key, state in rows:
                yield str(key), str(state)

    @_reporting
    def checkpoints(self, group: str) -> dict[TopicPartition, int]:
        rows = self._db.execute(
            "SELECT application_name, notification_id FROM tracking "
            "WHERE application_name LIKE ? ESCAPE '\\'",
            (group.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "|%",),
        )
        found = {}
        for name, last in rows:
            _, topic, partition = str(name).rsplit("|", 2)
            found[TopicPartition(topic, int(partition))] = int(last) + 1
        return found

    @_reporting
    def journal(self, subject_id: str, until: datetime | None = None) -> list[JournalEntry]:
        limit = epoch_micros(until) if until is not None else None
        rows = self._db.execute(
            "SELECT occurred_us, event_id, recorded_ms, topic, partition, offset, value "
            "FROM journal WHERE subject_id = ? AND (? IS NULL OR occurred_us <= ?) "
            "ORDER BY occurred_us, event_id",
            (subject_id, limit, limit),
        )
        return [
            JournalEntry(
                subject_id,
                datetime.fromtimestamp(us / 1_000_000, UTC),
                str(e),
                int(r),
                str(t),
                int(p),
                int(o),
                bytes(v),
            )
            for us, e, r, t, p, o, v in rows
        ]

    def canonical_dump(self) -> Iterator[str]:
        with _reported(self.path):
            for name, last in self._db.execute("SELECT * FROM tracking ORDER BY 1"):
                yield f"tracking\t{name}\t{last}"
            for projection, key, state in self._db.execute("SELECT * FROM states ORDER BY 1, 2"):
                yield f"state\t{projection}\t{key}\t{state}"
            for row in self._db.execute("SELECT * FROM journal ORDER BY 1, 2, 3"):
                *fields, value = row
                yield "journal\t" + "\t".join(str(f) for f in fields) + "\t" + bytes(value).hex()

    def close(self) -> None:
        self._db.close()
