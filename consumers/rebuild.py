"""Rebuild the projections from offset 0 into a new store, then swap it in.

The new store lives beside the live one (``<name>.rebuild.sqlite``) until it has caught
up; a rebuild that is interrupted (even by SIGKILL) resumes from that store's own
checkpoints when run again. The swap is a rename, so readers see the old projections or
the new ones, never a mixture.

``pdl run`` and a rebuild of one store exclude each other (``store_lock``): the daemon
holds the old file, and would go on updating it after the swap. A rebuild that finds
records deleted from the log stops with ``RecordsLost`` and swaps nothing in.
"""

from __future__ import annotations

import fcntl
import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from consumers.observe import Observer
from consumers.runner import REBUILD_BATCH, STALL_TIMEOUT_S, Progress, ProjectionConsumer
from consumers.sqlite_store import SQLiteProjectionStore
from consumers.store import StaleProjections
from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry
from ledger.errors import Conflict, LedgerError
from ledger.log.base import EventLog
from projections.installed import all_projections


def rebuild_path(live: Path) -> Path:
    return live.with_name(live.stem + ".rebuild.sqlite")


def rebuild(
    log: EventLog,
    registry: SchemaRegistry,
    topics: Topics,
    live: Path,
    observer: Observer | None = None,
    stop: threading.Event | None = None,
    stall_timeout_s: float = STALL_TIMEOUT_S,
) -> Progress:
    """Replay every event into a fresh (or half-built) store and swap it in for ``live``.
    Once ``stop`` is set it stops after the batch in hand and swaps nothing in (run it
    again to resume); ``RebuildStopped`` says so. It gives up (``Unavailable``) after
    ``stall_timeout_s`` without progress, like every catch-up (``PDL_STALL_TIMEOUT``)."""
    with store_lock(live, rebuilding=True):
        target = rebuild_path(live)
        store = _fresh_or_resumable(target)
        try:
            # Not through ``Backends`` (the one way to open things elsewhere): consumers
            # sit below the service layer, and this runner folds into the rebuild's own
            # file, not the live store ``Backends.catch_up`` folds into.
            runner = ProjectionConsumer(
                log,
                store,
                registry,
                all_projections(),
                topics,
                observer=observer,
                grouped=False,
                sole_writer=True,  # the rebuild's own file: no one else writes it
                batch_records=REBUILD_BATCH,
            )
            with _fewer_collections():
                progress = runner.catch_up(stall_timeout_s, stop=stop)
        finally:
            store.close()  # the last connection: SQLite folds the WAL into the file
        if stop is not None and stop.is_set():
            raise RebuildStopped(progress)
        _swap(target, live)
    return progress


#: the cyclic garbage collector's thresholds during a rebuild (Python's are 700, 10, 10)
REBUILD_GC_THRESHOLDS = (10_000, 50, 100)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector seldom while replaying. A rebuild keeps tens of
    MiB of folded states alive (its cache) and allocates several objects per record, so at
    Python's thresholds the collector walks the whole heap over and over: measured at
    100,000 events, 23 s of a 58 s rebuild (4.7 s at these). The states are freed by
    their reference counts; the collector is only needed for cycles, of which a rebuild
    makes few (about 10,000 objects' worth in 100,000 events, found with it off)."""
    before = gc.get_threshold()
    gc.set_threshold(*REBUILD_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class RebuildStopped(LedgerError):
    """The rebuild was asked to stop; its store is kept, to resume from."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(
            "pdl rebuild: stopped before it caught up; the current projections are kept",
            "run `pdl rebuild` again: it resumes where it stopped",
        )
        self.progress = progress


@contextmanager
def store_lock(live: Path, rebuilding: bool) -> Iterator[None]:
    """Held by ``pdl run`` (shared: several may run on one store) and by a rebuild
    (exclusive) for as long as they use ``live``; the one that comes second is refused."""
    path = live.with_name(live.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, (fcntl.LOCK_EX if rebuilding else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            if rebuilding:
                raise Conflict(
                    f"pdl rebuild: `pdl run` is running on {live.name}: it would keep "
                    "updating the old store after the swap",
                    "stop `pdl run` (SIGTERM or Ctrl-C), rebuild, then start it again",
                ) from None
            raise Conflict(
                f"pdl run: `pdl rebuild` is rebuilding {live.name}",
                "wait for the rebuild to finish (or stop it: it resumes later), then start "
                "`pdl run`",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _swap(target: Path, live: Path) -> None:
    for stale in (Path(f"{live}-wal"), Path(f"{live}-shm")):
        stale.unlink(missing_ok=True)  # a stale WAL must never be replayed onto the new file
    os.replace(target, live)


def _fresh_or_resumable(target: Path) -> SQLiteProjectionStore:
    """The half-built store to resume, unless another version of pdl began it. SQLite
    always: the rebuild swaps a file in (``pdl rebuild`` refuses a PostgreSQL store), so
    it is not ``Backends.store``, which opens the live one."""
    store = SQLiteProjectionStore(target, synced=False)
    try:
        store.check_versions({p.name: p.version() for p in all_projections()})
    except StaleProjections:
        store.close()
        for path in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            path.unlink(missing_ok=True)
        store = SQLiteProjectionStore(target, synced=False)
    return store


def resuming(live: Path) -> bool:
    return rebuild_path(live).exists()
