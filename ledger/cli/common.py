"""What every subcommand shares: global options, the error exit, help formatting."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any

from ledger.config import Ledger, Settings
from ledger.errors import Failure

__all__ = ["Failure"]  # re-exported: commands raise it

Handler = Callable[[argparse.Namespace], int]
Subparsers = Any  # argparse._SubParsersAction, which is private

SUBJECT_ID = re.compile(r"^sub_[0-9a-f]{32}$")


def add_command(
    subparsers: Subparsers,
    name: str,
    handler: Handler,
    summary: str,
    description: str,
    examples: str,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def open_ledger(args: argparse.Namespace) -> Ledger:
    return Ledger(Settings.resolve(args.log, args.data_dir))


def resolve_subject(ledger: Ledger, subject: str) -> str:
    """A subject id from what the user typed: the id itself, or a natural identifier."""
    if SUBJECT_ID.match(subject):
        return subject
    from ledger.intake import normalise_natural_id

    found = ledger.keys.subject_for(normalise_natural_id(subject), create=False)
    if found is None:
        raise Failure("no subject is known by that identifier (it may have been erased)")
    return found


def say(message: str) -> None:
    print(message, file=sys.stderr)
