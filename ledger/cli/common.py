"""What every subcommand shares: global options, the error exit, help formatting."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger.erasure.scope import ScopeError, parse_scope
from ledger.errors import Failure
from ledger.service.backends import Backends, Settings

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


def open_ledger(args: argparse.Namespace) -> Backends:
    return Backends(Settings.resolve(args.log, args.data_dir))


def resolve_subject(ledger: Backends, subject: str) -> str:
    """A subject id from what the user typed: the id itself, or a natural identifier."""
    if SUBJECT_ID.match(subject):
        return subject
    from ledger.service.intake import normalise_natural_id

    found = ledger.keys.subject_for(normalise_natural_id(subject), create=False)
    if found is None:
        raise Failure("no subject is known by that identifier (it may have been erased)")
    return found


def say(message: str) -> None:
    print(message, file=sys.stderr)


def instant(text: str) -> datetime:
    """An argparse type: an ISO 8601 instant with a zone."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant — fix: e.g. 2024-05-01T00:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone — fix: add Z or +02:00")
    return value


def scope_argument(text: str) -> dict[str, str]:
    """An argparse type: subject, purpose:P or category:C, as the events' scope object."""
    try:
        return parse_scope(text).model_dump(mode="json", exclude_none=True)
    except ScopeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
