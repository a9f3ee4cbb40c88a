"""The event ids a log was given: what makes a retried append append nothing again.

A producer that sets ``event_id`` may retry a batch (a time-out, a crash, the same file
emitted twice) without storing anything twice: every append path goes through
``Intake.append`` (or, for a file streamed from disk, ``Intake.append_spooled``), which
asks this memory which ids the log already holds and appends only the others. The memory
is a small SQLite file of the ledger's own per log (``DataDirectory.receipts``): event
id → topic, type, key (the subject id or the controller) and when it was appended; no
personal data. An id is remembered for
``PDL_EVENT_ID_MEMORY_DAYS`` (default 30) after its append; a retry later than that
appends again, and the projections still count the event once (they skip an event id
they already applied).

An id is remembered only after the log accepted the batch, in the same write
transaction that checked it, so two intakes on one data directory cannot both append the
same id. A crash between the log's append and this commit forgets the batch: its retry
appends it again, which the projections absorb.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from ledger.errors import Conflict, Refused

_SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
    event_id TEXT PRIMARY KEY, topic TEXT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL,
    appended_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS receipts_by_age ON receipts (appended_ms);
"""


class Receipt(Protocol):
    """What the memory keeps of one appended event (``Intake``'s ``Appended``)."""

    @property
    def event_id(self) -> str: ...

    @property
    def type_name(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def topic(self) -> str: ...


class EventIdMemory:
    """The ids appended to one log in the last ``period``, by the clock ``now``."""

    def __init__(self, path: Path, period: timedelta, now: Callable[[], datetime]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.period = period
        self._now = now
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def appending(self, receipts: Sequence[Receipt]) -> Iterator[list[bool]]:
        """Whether each event of a batch is already in the log (True: a retry, not to be
        appended again). The caller appends the others inside the block; their ids are
        remembered when it ends, and forgotten if it raises. Other intakes wait meanwhile.

        Refused if the batch gives one id twice; Conflict if an id was appended before
        as another type or about another key (a reused id, not a retry)."""
        _refuse_repeats(receipts)
        now_ms = int(self._now().timestamp() * 1000)
        since_ms = now_ms - self.period // timedelta(milliseconds=1)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            known = [self._known(r, since_ms) for r in receipts]
            yield known
            self._db.executemany(
                "INSERT OR REPLACE INTO receipts VALUES (?, ?, ?, ?, ?)",
                [
                    (r.event_id, r.topic, r.type_name, r.key, now_ms)
                    for r, seen in zip(receipts, known, strict=True)
                    if not seen
                ],
            )
            self._db.execute("DELETE FROM receipts WHERE appended_ms < ?", (since_ms,))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def appending_each(self) -> Iterator[Callable[[Receipt], bool]]:
        """``appending`` for a batch too large to hold in memory: the block asks, receipt
        by receipt, whether the log holds it already (True: a retry); each new id is
        remembered at once, in the one write transaction that commits when the block
        ends and is rolled back if it raises. The caller gives each id once (a repeat
        would be taken for a retry)."""
        now_ms = int(self._now().timestamp() * 1000)
        since_ms = now_ms - self.period // timedelta(milliseconds=1)

        def known(receipt: Receipt) -> bool:
            if self._known(receipt, since_ms):
                return True
            self._db.execute(
                "INSERT OR REPLACE INTO receipts VALUES (?, ?, ?, ?, ?)",
                (receipt.event_id, receipt.topic, receipt.type_name, receipt.key, now_ms),
            )
            return False

        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield known
            self._db.execute("DELETE FROM receipts WHERE appended_ms < ?", (since_ms,))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _known(self, receipt: Receipt, since_ms: int) -> bool:
        row = self._db.execute(
            "SELECT type, key FROM receipts WHERE event_id = ? AND appended_ms >= ?",
            (receipt.event_id, since_ms),
        ).fetchone()
        if row is None:
            return False
        if tuple(row) != (receipt.type_name, receipt.key):
            raise Conflict(
                f"event_id {receipt.event_id} was appended before as another event "
                f"({row[0]}, another key or subject); nothing appended",
                "give this event its own event_id: an id names one event, and a retry "
                "repeats the same event",
            )
        return True

    def close(self) -> None:
        self._db.close()


def _refuse_repeats(receipts: Sequence[Receipt]) -> None:
    first: dict[str, int] = {}
    for number, receipt in enumerate(receipts, start=1):
        earlier = first.setdefault(receipt.event_id, number)
        if earlier != number:
            raise Refused(
                f"events {earlier} and {number} of the batch have the same event_id "
                f"{receipt.event_id}; nothing appended",
                "give each event its own event_id",
            )


@contextmanager
def remembered(memory: EventIdMemory | None, receipts: Sequence[Receipt]) -> Iterator[list[bool]]:
    """``memory.appending(receipts)``; with no memory (an intake built without one, in
    tests), every event is new."""
    if memory is None:
        _refuse_repeats(receipts)
        yield [False] * len(receipts)
        return
    with memory.appending(receipts) as known:
        yield known


@contextmanager
def remembered_each(memory: EventIdMemory | None) -> Iterator[Callable[[Receipt], bool]]:
    """``memory.appending_each()``; with no memory, every event is new."""
    if memory is None:
        yield lambda receipt: False
        return
    with memory.appending_each() as known:
        yield known
