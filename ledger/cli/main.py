"""The ``pdl`` entry point."""

from __future__ import annotations

import argparse
import os
import sys

from ledger import __version__
from ledger.cli import (
    basis,
    catalog,
    certificates,
    deadletters,
    demo,
    doctor,
    emit,
    erase,
    hold,
    keys,
    lag,
    logs,
    rebuild,
    report,
    requests,
    retention,
    run,
    schemas,
    serve,
    state,
    verify_erasure,
)
from ledger.cli.exits import INTERRUPTED, OK, exit_code
from ledger.errors import LedgerError
from ledger.service.layout import keep_private

DESCRIPTION = """\
pdl — the personal-data ledger. Records what an organisation does with personal data
(collected, consented, withdrawn, ...) as events on Kafka or an embedded log, with
personal fields encrypted per subject, and answers what is held on each person.

Backend: --log kafka://HOST:PORT or PDL_LOG; with neither, the embedded log in the
data directory (--data-dir or PDL_DATA_DIR, default ~/.local/share/pdl). The master
key comes from PDL_MASTER_KEY or PDL_MASTER_KEY_FILE (a laptop default is created in
the data directory)."""

EXAMPLES = """\
examples:
  pdl demo                                   # start here: no broker needed
  pdl emit events.jsonl && pdl state camille.martin@example.fr
  pdl --log kafka://127.0.0.1:9092 run       # keep projections current
  pdl COMMAND --help                         # each command, with examples"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pdl",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pdl {__version__}")
    parser.add_argument(
        "--log", metavar="URL", help="kafka://HOST:PORT for Kafka; default: PDL_LOG, else embedded"
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the embedded log, key store and projections live "
        "(default: PDL_DATA_DIR, else ~/.local/share/pdl)",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="postgresql://USER@HOST:PORT/DB: projections in PostgreSQL, shared by every "
        "consumer of a group on any host (default: PDL_STORE, else SQLite in the data dir)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (TOML; default: PDL_CONFIG); flags and the environment win "
        "over it (docs/OPERATORS.md lists every setting)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        default="text",
        help="text (default) or json: one JSON object per line, for a log collector",
    )
    parser.add_argument(
        "--kafka-log-level",
        metavar="LEVEL",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        help="kafka-python's own log level (default: WARNING with -v, else silent)",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in (
        demo,
        emit,
        state,
        basis,
        run,
        lag,
        doctor,
        rebuild,
        deadletters,
        catalog,
        schemas,
        erase,
        hold,
        requests,
        retention,
        certificates,
        verify_erasure,
        keys,
        report,
        serve,
    ):
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    keep_private()  # keys, projections and decrypted reports: for this user only
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.verbose, args.log_format, args.kafka_log_level)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        code: int = args.handler(args)
    except LedgerError as exc:
        print(said(exc), file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (`pdl dump | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    return code


def said(exc: LedgerError) -> str:
    """The error as printed: ``pdl: …``, unless the message already names the command."""
    text = str(exc)
    return text if text.startswith(("pdl ", "pdl:")) else f"pdl: {text}"


if __name__ == "__main__":
    sys.exit(main())
