"""``pdl run``: run the projection consumers until stopped."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from ledger.cli.common import Subparsers, add_command, open_ledger, say

DESCRIPTION = """\
Consume every event topic and keep the projections current. Each batch commits its
projection state and its checkpoint in one transaction, so a consumer killed at any
point resumes exactly where its state stops. Several `pdl run` in one consumer group
share the partitions (Kafka). Ctrl-C or SIGTERM stops it cleanly after the batch in
hand is committed. Bad records go to the dead-letter topic; the loop keeps going."""

EXAMPLES = """\
  pdl run
  pdl --log kafka://127.0.0.1:9092 run
  PDL_LOG=kafka://127.0.0.1:9092 pdl run --until-caught-up"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers, "run", run, "run the projection consumers until stopped", DESCRIPTION, EXAMPLES
    )
    parser.add_argument(
        "--until-caught-up",
        action="store_true",
        help="stop once everything appended so far is applied",
    )


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    runner = ledger.runner()
    try:
        if args.until_caught_up:
            progress = runner.catch_up(timeout_s=3600)
        else:
            stop = threading.Event()

            def request_stop(signum: int, frame: FrameType | None) -> None:
                say("pdl run: stopping after the current batch")
                stop.set()

            signal.signal(signal.SIGINT, request_stop)
            signal.signal(signal.SIGTERM, request_stop)
            say(f"pdl run: consuming {', '.join(runner.topics)} as group {runner.group}")
            progress = runner.run(stop)
    finally:
        ledger.close()
    say(
        f"pdl run: applied {progress.applied}, dead letters {progress.dead_letters}, "
        f"redelivered and skipped {progress.skipped}"
    )
    return 0
