"""``pdl deadletters``: list the records consumers could not apply, and why."""

from __future__ import annotations

import argparse
import json

from ledger.cli.common import Subparsers, add_command, open_ledger
from ledger.contract.deadletter import DeadLetter
from ledger.contract.positions import LogPosition
from ledger.contract.wire import UndecodableMessage
from ledger.service.backends import Backends

DESCRIPTION = """\
List the dead-letter topic: every record a consumer met that it could not decode or
validate, with the reason. A dead letter points at the bad record (topic, partition,
offset) and gives its SHA-256 and size; it never copies it, so fetch the record itself
from its topic to inspect it. A record dead-lettered twice (a consumer restarted before
its checkpoint) is listed once. Exit status 0, whether or not there are any."""

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


def dead_letters(ledger: Backends) -> list[DeadLetter | str]:
    """Dead letters in log order, each once; a string where a dead letter is unreadable."""
    found: dict[str, DeadLetter | str] = {}
    for record in ledger.log.scan([ledger.topics.dead_letter]):
        try:
            _, fields = ledger.registry.decode(record.value)
            letter: DeadLetter | str = DeadLetter.model_validate(fields)
        except (UndecodableMessage, ValueError) as exc:
            letter = f"{LogPosition.of(record)}: unreadable ({exc})"
        key = letter.dead_letter_id if isinstance(letter, DeadLetter) else letter
        found.setdefault(key, letter)
    return list(found.values())


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        letters = dead_letters(ledger)
    finally:
        ledger.close()
    if args.json:
        print(
            json.dumps(
                [
                    x.model_dump(mode="json") if isinstance(x, DeadLetter) else {"unreadable": x}
                    for x in letters
                ],
                indent=2,
            )
        )
        return 0
    if not letters:
        print("no dead letters")
    for x in letters:
        if isinstance(x, DeadLetter):
            print(
                f"{x.dead_letter_id}\t{x.recorded_at.isoformat()}\t{x.group}\t"
                f"{x.size} B sha256:{x.sha256[:16]}\t{x.reason}"
            )
        else:
            print(x)
    return 0
