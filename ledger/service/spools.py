"""What a submission keeps on disk between its passes, so that its memory stays bounded
whatever the size of its input (``ledger.service.submission.submit_lines``).

Nothing here is plaintext personal data at rest. The validated events, which hold it in
clear, are spooled encrypted under an AES-GCM key made for the spool and held only in
memory (``ScreenedSpool``): once the process ends, the file is noise. The scratch file
(``Scratch``) holds event ids, receipts and sealed records: the same bytes the log gets,
personal values as ciphertext. Both live in a temporary directory removed when the
submission's receipts are dropped.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import struct
import tempfile
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import IO, overload

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from ledger.contract.events import EVENT_TYPES
from ledger.contract.secret import Secret
from ledger.log.base import OutgoingRecord
from ledger.service.intake import Appended, Screened, Sealed

_LENGTH = struct.Struct(">I")
#: Plaintext sealed together in one AES-GCM message of the input spool.
_SPOOL_CHUNK_BYTES = 1 << 20
#: Rows read from the scratch file at a time.
_PAGE = 1_000


class ScreenedSpool:
    """The events the first pass accepted, each with its line number, on disk encrypted
    with a key held only in memory, to be read back in order. An event is kept as the
    JSON a producer could have submitted for it once validated (its event_id, coded
    labels and subject id filled in) and read back by its model's own JSON validation:
    what is read from disk is only ever parsed as JSON, never unpickled."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._chunks = 0

    @classmethod
    @contextmanager
    def created(cls, directory: Path) -> Iterator[ScreenedSpool]:
        with tempfile.NamedTemporaryFile(dir=directory, prefix="input-", suffix=".spool") as f:
            yield cls(f)

    def keep(self, number: int, screened: Screened) -> None:
        event = screened.event
        body = to_json(_submitted_form(event))  # pydantic-core writes it 5 times faster than json
        natural = b"" if screened.natural is None else screened.natural.encode()
        head = _HEAD.pack(number, _TYPE_INDEX[event.type_name()], len(natural), len(body))
        self._pending.append(head + natural + body)
        self._pending_bytes += _HEAD.size + len(natural) + len(body)
        if self._pending_bytes >= _SPOOL_CHUNK_BYTES:
            self._seal_pending()

    def events(self) -> Iterator[tuple[int, Screened]]:
        """Each event with its line number, in the order added."""
        self._seal_pending()
        self._file.flush()
        self._file.seek(0)
        for chunk in range(self._chunks):
            (size,) = _LENGTH.unpack(self._file.read(_LENGTH.size))
            plain = self._aead.decrypt(_nonce(chunk), self._file.read(size), None)
            at = 0
            while at < len(plain):
                number, type_index, natural_size, body_size = _HEAD.unpack_from(plain, at)
                at += _HEAD.size
                natural = plain[at : at + natural_size].decode() if natural_size else None
                at += natural_size
                model = EVENT_TYPES[_TYPE_NAMES[type_index]]
                try:
                    event = model.model_validate_json(plain[at : at + body_size])
                except ValidationError as exc:  # a bug; its text would show the values
                    where = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
                    raise RuntimeError(
                        f"line {number}: a validated event did not validate again when read "
                        f"back from the spool ({where}); nothing appended"
                    ) from None
                at += body_size
                yield number, Screened(event, natural)

    def _seal_pending(self) -> None:
        if not self._pending:
            return
        sealed = self._aead.encrypt(_nonce(self._chunks), b"".join(self._pending), None)
        self._file.write(_LENGTH.pack(len(sealed)) + sealed)
        self._chunks += 1
        self._pending = []
        self._pending_bytes = 0


#: An event of the spool: its line number, its type, its natural identifier's length
#: (0: none; a natural identifier is never empty), its JSON's length.
_HEAD = struct.Struct(">QBII")
_TYPE_NAMES = tuple(EVENT_TYPES)
_TYPE_INDEX = {name: index for index, name in enumerate(_TYPE_NAMES)}


def _submitted_form(value: object) -> object:
    """A validated model as the JSON values a producer submits: personal values as their
    plaintext (pydantic's serialiser refuses to write them: this is for the encrypted
    spool only), instants in ISO 8601 with their zone. Validating it gives the model
    back. Refuses a type it does not know rather than guess how to write it."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if isinstance(value, BaseModel):
        # most fields are ids, slugs and flags: written as they are, without a call
        return {
            name: v if type(v) in _AS_IS else _submitted_form(v)
            for name, v in value.__dict__.items()
        }
    if isinstance(value, Secret):
        if value.plaintext is None:
            raise TypeError("a sealed personal value has no submitted form")
        return value.plaintext
    if isinstance(value, list):
        return [v if type(v) in _AS_IS else _submitted_form(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"no submitted form for a {kind.__name__}")


#: Types JSON writes as they are, and validation reads back as the same value.
_AS_IS: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def _nonce(chunk: int) -> bytes:
    # one key per spool, one message per chunk number: a nonce is never reused
    return chunk.to_bytes(12, "big")


_SCHEMA = """
CREATE TABLE ids (event_id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE records (
    seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
    event_id TEXT NOT NULL, type TEXT NOT NULL, log_key TEXT NOT NULL,
    duplicate INTEGER NOT NULL DEFAULT 0
);
"""


class Scratch:
    """A submission's own throw-away SQLite file: the event ids of the first pass, then
    the sealed records and their receipts. Never made durable: it dies with the process."""

    def __init__(self, directory: tempfile.TemporaryDirectory[str]) -> None:
        self._directory = directory
        self.directory = Path(directory.name)
        self._db = sqlite3.connect(
            self.directory / "scratch.sqlite", isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.executescript(_SCHEMA)
        self._db.execute("BEGIN")  # never committed: the file is thrown away
        self._closed = weakref.finalize(self, _discard, self._db, directory)

    @classmethod
    @contextmanager
    def created(cls) -> Iterator[Scratch]:
        _remove_orphans(Path(tempfile.gettempdir()))
        scratch = cls(tempfile.TemporaryDirectory(prefix=f"{_PREFIX}{os.getpid()}-"))
        try:
            yield scratch
        except BaseException:
            scratch.close()
            raise

    def first_line_of(self, event_id: str, line: int) -> int:
        """The line that first gave ``event_id``: ``line`` itself the first time."""
        try:
            self._db.execute("INSERT INTO ids VALUES (?, ?)", (event_id, line))
            return line
        except sqlite3.IntegrityError:
            (first,) = self._db.execute(
                "SELECT line FROM ids WHERE event_id = ?", (event_id,)
            ).fetchone()
            return int(first)

    def add(self, sealed: Sequence[Sealed]) -> None:
        self._db.executemany(
            "INSERT INTO records (topic, key, value, event_id, type, log_key) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (s.record.topic, s.record.key, s.record.value, *_receipt_row(s.receipt))
                for s in sealed
            ],
        )

    def mark_duplicates(self, known: Callable[[Appended], bool]) -> None:
        seen = [seq for seq, receipt in self.in_order() if known(receipt)]
        self._db.executemany("UPDATE records SET duplicate = 1 WHERE seq = ?", [(s,) for s in seen])

    def fresh_records(self) -> FreshRecords:
        return FreshRecords(self._db)

    def receipts(self) -> Receipts:
        return Receipts(self)

    def count(self, duplicate: bool | None = None) -> int:
        where = "" if duplicate is None else f" WHERE duplicate = {int(duplicate)}"
        (n,) = self._db.execute(f"SELECT COUNT(*) FROM records{where}").fetchone()
        return int(n)

    def receipt_at(self, index: int) -> Appended:
        row = self._db.execute(
            "SELECT event_id, type, log_key, topic, duplicate FROM records WHERE seq = ?",
            (index + 1,),
        ).fetchone()
        if row is None:
            raise IndexError(index)
        return _appended(row)

    def close(self) -> None:
        self._closed()

    def in_order(self) -> Iterator[tuple[int, Appended]]:
        """Every receipt with its row, in input order."""
        after = 0
        while True:
            rows = self._db.execute(
                "SELECT seq, event_id, type, log_key, topic, duplicate FROM records "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, _PAGE),
            ).fetchall()
            if not rows:
                return
            for seq, *rest in rows:
                yield int(seq), _appended(tuple(rest))
            after = int(rows[-1][0])


class FreshRecords:
    """The records of a scratch file not marked duplicate, in order, read page by page."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __len__(self) -> int:
        (n,) = self._db.execute("SELECT COUNT(*) FROM records WHERE duplicate = 0").fetchone()
        return int(n)

    def __iter__(self) -> Iterator[OutgoingRecord]:
        after = 0
        while True:
            rows = self._db.execute(
                "SELECT seq, topic, key, value FROM records WHERE duplicate = 0 AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (after, _PAGE),
            ).fetchall()
            if not rows:
                return
            for _, topic, key, value in rows:
                yield OutgoingRecord(str(topic), bytes(key), bytes(value))
            after = int(rows[-1][0])


class Receipts(Sequence[Appended]):
    """A submission's receipts, one per event in input order, read from its scratch file
    (a list of a million receipts would not fit the bounded memory)."""

    def __init__(self, scratch: Scratch) -> None:
        self._scratch = scratch
        self._length = scratch.count()
        #: events the log already held (same event_id): not appended again
        self.duplicates = scratch.count(duplicate=True)

    @property
    def appended(self) -> int:
        return self._length - self.duplicates

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Appended: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Appended]: ...

    def __getitem__(self, index: int | slice) -> Appended | Sequence[Appended]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        return self._scratch.receipt_at(index)

    def __iter__(self) -> Iterator[Appended]:
        return (receipt for _, receipt in self._scratch.in_order())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


def _receipt_row(receipt: Appended) -> tuple[str, str, str]:
    return receipt.event_id, receipt.type_name, receipt.key


def _appended(row: tuple[object, ...]) -> Appended:
    event_id, type_name, key, topic, duplicate = row
    return Appended(str(event_id), str(type_name), str(key), str(topic), bool(duplicate))


#: a submission's directory: this prefix, the pid of the process that made it, a dash
_PREFIX = "pdl-submission-"
_ORPHAN = re.compile(re.escape(_PREFIX) + r"(\d+)-")


def _remove_orphans(parent: Path) -> None:
    """Remove the directories of submissions whose process died without cleaning up (a
    SIGKILLed ``pdl emit``): an input spool no one can read any more (its key died with
    the process) and sealed records that were never appended. Only this user's, and only
    those whose process is gone: a live submission's directory is left alone."""
    for path in parent.glob(_PREFIX + "*"):
        named = _ORPHAN.match(path.name)
        if named is None or _alive(int(named.group(1))):
            continue
        try:
            mine = path.is_dir() and path.stat().st_uid == os.getuid()
        except OSError:  # gone meanwhile: its own submission removed it
            continue
        if mine:
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process holds the pid now
        return True
    return True


def _discard(db: sqlite3.Connection, directory: tempfile.TemporaryDirectory[str]) -> None:
    db.close()
    directory.cleanup()
