"""The ``pdl`` entry point."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ledger import __version__
from ledger.cli import logs
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


#: Every command, in the order ``pdl --help`` lists them: the module that registers it
#: (``ledger.cli.<module>``) and its one-line summary. A command's module (and with it
#: the services, models, Avro and Kafka libraries it needs) is imported only when that
#: command runs or its own help is asked, so ``pdl --help`` starts in a fraction of the
#: time. Each module passes the same summary to ``add_command``; a test checks both agree.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "run a seed-policy scenario, print the state, write the reports"),
    "emit": ("emit", "append events given as JSON lines"),
    "state": ("state", "print what is held on one subject now"),
    "basis": ("basis", "the legal basis of a purpose for a subject at an instant"),
    "run": ("run", "run the projection consumers until stopped"),
    "lag": ("lag", "show consumer lag per partition, in messages and seconds"),
    "doctor": ("doctor", "check the log's topics: nothing expires, record time is the broker's"),
    "rebuild": ("rebuild", "replay projections from offset 0, resumably"),
    "dump": ("rebuild", "print the projection store canonically"),
    "deadletters": ("deadletters", "list records consumers could not apply, with the reason"),
    "catalog": ("catalog", "validate, publish and list catalogs"),
    "schemas": ("schemas", "generate, check and release the Avro schemas"),
    "erase": ("erase", "erase a subject's data and print the certificate"),
    "hold": ("hold", "place, release or list legal holds (Art. 17(3))"),
    "requests": ("requests", "requests from people: receive, follow, answer (Art. 12, 15-22)"),
    "retention": ("retention", "list or erase what retention rules make due"),
    "certificates": ("certificates", "list, show or verify erasure certificates"),
    "verify-erasure": (
        "verify_erasure",
        "prove from the raw topics that erased data cannot be decrypted",
    ),
    "keys": ("keys", "master key status and rotation; bounded backups of the key store"),
    "report": ("report", "build a point-in-time report (ropa, access, basis, ...)"),
    "serve": ("serve", "serve the reports and metrics over HTTP (OpenAPI)"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``pdl`` parser with ``command`` (and the commands its module registers beside
    it) in full; every other command is a placeholder that only names it, which is
    enough to list it and to find which one a command line asks for."""
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
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    chosen = COMMANDS[command][0] if command in COMMANDS else None
    for name, (module, summary) in COMMANDS.items():
        if module == chosen:
            importlib.import_module(f"ledger.cli.{module}").register(subparsers)
            chosen = None  # its module registered every command it holds, in order
        elif name not in subparsers.choices:
            # the words after a placeholder are left for the full parser to read
            subparsers.add_parser(name, help=summary, add_help=False)
    return parser


def parse(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """Parse twice: first with placeholders only, to learn the command (``pdl --help``,
    ``--version`` and an unknown command end there), then with that command in full."""
    command = build_parser().parse_known_args(argv)[0].command
    parser = build_parser(command)
    return parser, parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    keep_private()  # keys, projections and decrypted reports: for this user only
    parser, args = parse(argv)
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
