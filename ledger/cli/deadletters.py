"""``pdl deadletters``: list the records consumers could not apply, and why."""

from __future__ import annotations

import argparse
import json

from consumers.schema_topic import UnreadableSchema, unreadable
from ledger.cli.common import Subparsers, add_command, open_ledger
from ledger.cli.terminal import printable
from ledger.contract.deadletter import DeadLetter
from ledger.service.deadletters import dead_letters

DESCRIPTION = """\
List the dead-letter topic: every record a consumer met that it could not decode or
validate, with the reason. A dead letter points at the bad record (topic, partition,
offset) and gives its SHA-256 and size; it never copies it, so fetch the record itself
from its topic to inspect it. A record dead-lettered twice (a consumer restarted before
its checkpoint) is listed once. Records of the schema topic that are not a usable Avro
schema are listed too, with their position and reason: readers skip them. Exit status
0, whether or not there are any."""

EXAMPLES = """\
  pdl deadletters
  pdl deadletters --json | jq '.[] | .reason'
  pdl --log kafka://127.0.0.1:9092 deadletters"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "deadletters",
        run,
        "list records consumers could not apply, with the reason",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        letters = dead_letters(ledger)
        skipped = unreadable(ledger.log, ledger.topics)
    finally:
        ledger.close()
    if args.json:
        print(
            json.dumps(
                [
                    x.model_dump(mode="json") if isinstance(x, DeadLetter) else {"unreadable": x}
                    for x in letters
                ]
                + [
                    {"skipped_schema": {"position": s.position, "reason": s.reason}}
                    for s in skipped
                ],
                indent=2,
            )
        )
        return 0
    if not letters and not skipped:
        print("no dead letters")
    _print_skipped(skipped)
    for x in letters:
        if isinstance(x, DeadLetter):
            print(
                f"{x.dead_letter_id}\t{x.recorded_at.isoformat()}\t{x.group}\t"
                f"{x.size} B sha256:{x.sha256[:16]}\t{printable(x.reason)}"
            )
        else:
            print(printable(x))
    return 0


def _print_skipped(skipped: list[UnreadableSchema]) -> None:
    for s in skipped:
        print(f"{s.position}	schema topic record skipped	{s.reason}")
