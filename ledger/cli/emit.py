"""``pdl emit``: append events given as JSON lines."""

from __future__ import annotations

import argparse
import sys
from typing import BinaryIO

from ledger.cli.common import Subparsers, add_command, open_ledger, say
from ledger.errors import InvalidRequest
from ledger.service.submission import submit_lines

DESCRIPTION = """\
Append events, one JSON object per line, each with a "type" field naming the event
(see docs/EVENTS.md). Give the subject by natural identifier ("subject": e-mail or
customer number; the ledger pseudonymises it and never writes it to the log) or by
pseudonymous id ("subject_id": "sub_...").

A file is all-or-nothing: every line is validated first and, if any line is rejected,
nothing is appended and every rejection is listed with its line number, field, rule
and fix. The file must be UTF-8; timestamps ISO 8601 with a zone. Memory does not grow
with the file: it is read once, through spools in TMPDIR (the validated events encrypted
under a key held only in memory, then sealed records), and appended as one transaction.

Retries are safe: an event whose event_id the ledger already holds is not appended
again (listed with "duplicate"), so a file with event_ids can be emitted twice.
Exit status: 0 appended (or all already there), 1 rejected, 2 configuration or log
error."""

EXAMPLES = """\
  pdl emit events.jsonl
  echo '{"type": "ConsentWithdrawn", "subject": "camille@example.fr",
         "controller": "informatique70", "purpose": "newsletter",
         "channel": "unsubscribe-link", "occurred_at": "2024-05-02T10:00:00Z"}' | pdl emit -
  pdl --log kafka://127.0.0.1:9092 emit events.jsonl"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers, "emit", run, "append events given as JSON lines", DESCRIPTION, EXAMPLES
    )
    parser.add_argument("file", nargs="?", default="-", help="JSON-lines file, or - for stdin")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    parser.add_argument(
        "--import",
        dest="importing",
        action="store_true",
        help="the events are imported from an older register: each must carry "
        '"imported": {"source", "recorded_at"} (docs/INTEGRATORS.md, "Importing")',
    )


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        with _open(args.file) as lines:
            receipts = submit_lines(ledger.intake(importing=args.importing), lines)
    finally:
        ledger.close()
    if not args.quiet:
        for r in receipts:  # read from disk one by one: a large file's never all in memory
            seen = "\tduplicate" if r.duplicate else ""
            print(f"{r.type_name}\t{r.event_id}\t{r.key}\t{r.topic}{seen}")
    summary = f"pdl emit: appended {receipts.appended} event(s)"
    if receipts.duplicates:
        summary += (
            f"; {receipts.duplicates} already in the ledger (same event_id), not appended again"
        )
    say(summary)
    return 0


def _open(path: str) -> BinaryIO:
    # bytes: each line is decoded on its own, so a bad byte is a rejection with its
    # line number, not a traceback
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # closed by the caller's with
    except OSError as exc:
        raise InvalidRequest(f"cannot read {path}: {exc.strerror}", field="FILE") from None
