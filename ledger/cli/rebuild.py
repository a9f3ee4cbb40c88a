"""``pdl rebuild`` and ``pdl dump``: replay the projections from offset 0; dump them."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence

from consumers.observe import Observer
from consumers.rebuild import RebuildStopped, rebuild, resuming
from ledger.cli.common import Subparsers, add_command, open_ledger, say
from ledger.cli.exits import INTERRUPTED
from ledger.errors import Refused
from ledger.log.base import LogRecord, TopicPartition
from projections.base import Recorded

DESCRIPTION = """\
Replay every event topic from offset 0 into a new projection store, then swap it in for
the current one. Shows a progress bar on stderr. Safe to interrupt: run it again and it
resumes where it stopped (its store is checkpointed like any consumer's); SIGTERM stops
it the same way. Refused while `pdl run` runs on the same store: stop it first. If
records were deleted from the log (topic retention), it stops naming the topics,
partitions and offsets lost, and keeps the current projections."""

EXAMPLES = """\
  pdl rebuild
  pdl --log kafka://127.0.0.1:9092 rebuild"""

DUMP_DESCRIPTION = """\
Print the projection store as sorted text lines (checkpoints, states, journal rows),
after catching up with the log (unless --no-catch-up): two stores with the same content
give byte-identical dumps. Personal values appear as
they are stored: ciphertext."""

DUMP_EXAMPLES = """\
  pdl dump > before.txt && pdl rebuild && pdl dump | diff before.txt -"""


class ProgressBar(Observer):
    """events applied / total, rate, on one refreshed stderr line (or a line every 5 s)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self._started = self._shown = time.monotonic()
        self._shown_done = -1
        self._tty = sys.stderr.isatty()

    def batch_applied(
        self,
        group: str,
        outcomes: Sequence[tuple[LogRecord, Recorded | str]],
        apply_seconds: float,
        commit_seconds: float,
    ) -> None:
        self.done += len(outcomes)
        now = time.monotonic()
        if now - self._shown >= (0.2 if self._tty else 5.0) or self.done >= self.total:
            self._shown = now
            self.show(now)

    def positions(self, group: str, positions: Mapping[TopicPartition, int]) -> None:
        pass

    def show(self, now: float) -> None:
        if self._shown_done == self.done:
            return
        self._shown_done = self.done
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        rate = self.done / max(now - self._started, 1e-9)
        line = f"rebuild [{bar:<30}] {self.done:,}/{self.total:,} records {rate:,.0f}/s"
        print(
            ("\r" + line) if self._tty else line,
            end="" if self._tty else "\n",
            file=sys.stderr,
            flush=True,
        )


def register(subparsers: Subparsers) -> None:
    add_command(
        subparsers,
        "rebuild",
        run,
        "replay projections from offset 0, resumably",
        DESCRIPTION,
        EXAMPLES,
    )
    dumping = add_command(
        subparsers,
        "dump",
        dump,
        "print the projection store canonically",
        DUMP_DESCRIPTION,
        DUMP_EXAMPLES,
    )
    dumping.add_argument(
        "--no-catch-up",
        action="store_true",
        help="dump the store as it is, without consuming first",
    )


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        if ledger.settings.store_url is not None:
            raise Refused(
                "pdl rebuild builds a SQLite store beside the live one and swaps it in; it "
                "cannot swap a PostgreSQL store yet",
                fix="stop every `pdl run` of the group, drop the store's schemas "
                "(DROP SCHEMA ... CASCADE), and run `pdl run --until-caught-up`: the "
                "projections are rebuilt from offset 0",
            )
        live = ledger.store_path
        if resuming(live):
            say("pdl rebuild: resuming an interrupted rebuild")
        total = sum(ledger.log.end_offsets(ledger.topics.event_topics()).values())
        bar = ProgressBar(total)
        stop = stop_on_signals("pdl rebuild")
        try:
            progress = rebuild(
                ledger.log,
                ledger.registry,
                ledger.topics,
                live,
                bar,
                stop,
                stall_timeout_s=ledger.settings.stall_timeout_s,
            )
        except RebuildStopped as stopped:
            say(
                f"\npdl rebuild: stopped after applying {stopped.progress.applied}; the "
                "current projections are kept — run `pdl rebuild` again to resume"
            )
            return INTERRUPTED
        bar.show(time.monotonic())
    finally:
        ledger.close()
    say(
        f"\npdl rebuild: applied {progress.applied}, dead letters {progress.dead_letters}; "
        f"projections swapped in at {live}"
    )
    return 0


def stop_on_signals(command: str) -> threading.Event:
    """An event set by SIGTERM or Ctrl-C: the command stops after the batch in hand."""
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        say(f"{command}: stopping after the current batch")
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


def dump(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        if not args.no_catch_up:
            ledger.catch_up()
        for line in ledger.store.canonical_dump():
            print(line)
    finally:
        ledger.close()
    return 0
