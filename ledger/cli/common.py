"""What every subcommand shares: global options, the error exit, help formatting."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.contract.instants import parse_instant
from ledger.erasure.scope import ScopeError, parse_scope
from ledger.errors import InvalidRequest
from ledger.service.backends import Backends
from ledger.service.queries import resolve_subject as resolve_subject  # for the commands
from ledger.service.settings import Settings

Handler = Callable[[argparse.Namespace], int]
Subparsers = Any  # argparse._SubParsersAction, which is private


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


def settings_of(
    args: argparse.Namespace, fallback_data_dir: Callable[[], Path] | None = None
) -> Settings:
    """The settings a command runs with: its flags, else the environment."""
    settings = Settings.from_environment(
        log=args.log,
        data_dir=args.data_dir,
        metrics_port=getattr(args, "metrics_port", None),
        store=getattr(args, "store", None),
        fallback_data_dir=fallback_data_dir,
        config=getattr(args, "config", None),
    )
    settings.layout.make_private()
    return settings


def open_ledger(
    args: argparse.Namespace, fallback_data_dir: Callable[[], Path] | None = None
) -> Backends:
    """The one way a command opens the ledger's adapters."""
    return Backends(settings_of(args, fallback_data_dir))


def say(message: str) -> None:
    print(message, file=sys.stderr)


def instant(text: str) -> datetime:
    """An argparse type: an instant as ``ledger.contract.instants`` reads it (argparse
    names the option in its error)."""
    try:
        return parse_instant(text, "the value")
    except InvalidRequest as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def scope_argument(text: str) -> dict[str, str]:
    """An argparse type: subject, purpose:P or category:C, as the events' scope object."""
    try:
        return parse_scope(text).model_dump(mode="json", exclude_none=True)
    except ScopeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
