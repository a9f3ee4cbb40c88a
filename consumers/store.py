"""The embedded projection store: SQLite, checkpoints committed with the state they cover.

A unit of work is one ``BEGIN IMMEDIATE`` transaction: it reads the group's checkpoint,
so records already applied (by this process before a crash, or by another member of the
group) are skipped, then writes the new states and the new checkpoint together. A
consumer killed at any instant resumes from a checkpoint that matches its state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.log.base import TopicPartition

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)
);
CREATE TABLE IF NOT EXISTS states (
    projection TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (projection, key)
) WITHOUT ROWID;
"""


class UnitOfWork:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def checkpoint(self, group: str, tp: TopicPartition) -> int:
        row = self._db.execute(
            "SELECT next_offset FROM checkpoints WHERE grp = ? AND topic = ? AND partition = ?",
            (group, tp.topic, tp.partition),
        ).fetchone()
        return 0 if row is None else int(row[0])

    def set_checkpoint(self, group: str, tp: TopicPartition, next_offset: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?)",
            (group, tp.topic, tp.partition, next_offset),
        )

    def state(self, projection: str, key: str) -> str | None:
        row = self._db.execute(
            "SELECT state FROM states WHERE projection = ? AND key = ?", (projection, key)
        ).fetchone()
        return None if row is None else str(row[0])

    def put_state(self, projection: str, key: str, state: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO states VALUES (?, ?, ?)", (projection, key, state))


class ProjectionStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield UnitOfWork(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def checkpoint(self, group: str, tp: TopicPartition) -> int:
        return UnitOfWork(self._db).checkpoint(group, tp)

    def state(self, projection: str, key: str) -> str | None:
        return UnitOfWork(self._db).state(projection, key)

    def states(self, projection: str) -> Iterator[tuple[str, str]]:
        """Every (key, state) of a projection, by key: a canonical dump."""
        rows = self._db.execute(
            "SELECT key, state FROM states WHERE projection = ? ORDER BY key", (projection,)
        )
        for key, state in rows:
            yield str(key), str(state)

    def checkpoints(self, group: str) -> dict[TopicPartition, int]:
        rows = self._db.execute(
            "SELECT topic, partition, next_offset FROM checkpoints WHERE grp = ?", (group,)
        )
        return {TopicPartition(str(t), int(p)): int(o) for t, p, o in rows}

    def reset(self, group: str) -> None:
        """Forget a group's checkpoints and every projection state, for a rebuild."""
        with self.unit_of_work():
            self._db.execute("DELETE FROM checkpoints WHERE grp = ?", (group,))
            self._db.execute("DELETE FROM states")

    def close(self) -> None:
        self._db.close()
