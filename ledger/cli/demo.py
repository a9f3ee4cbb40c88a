"""``pdl demo``: a short scenario from a seed policy, on the embedded log."""

from __future__ import annotations

import argparse
import tempfile
from importlib import resources
from pathlib import Path

from ledger.cli.common import Subparsers, add_command, say
from ledger.cli.emit import emit_lines
from ledger.cli.state import render, subject_view
from ledger.config import Ledger, Settings

SUBJECT = "camille.martin@example.fr"

DESCRIPTION = f"""\
The first thing to run. In a fresh data directory, with no broker, it appends the
events of a customer of Informatique 70 (its privacy notice is one of the seed policies,
shipped as the catalog ledger/policy/catalogs/informatique70.toml): data collected for
the newsletter with consent, a call recording, an invoice, then the consent withdrawn.
It runs the projection consumer and prints what the ledger now holds on {SUBJECT}
(the e-mail is pseudonymised: only the key store maps it to a subject id)."""

EXAMPLES = """\
  pdl demo
  pdl demo --data-dir ./demo-data     # keep the data somewhere you choose
  pdl --log kafka://127.0.0.1:9092 demo"""


def register(subparsers: Subparsers) -> None:
    add_command(
        subparsers,
        "demo",
        run,
        "run a short seed-policy scenario and print the state",
        DESCRIPTION,
        EXAMPLES,
    )


def run(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="pdl-demo-")
    ledger = Ledger(Settings.resolve(args.log, data_dir))
    try:
        lines = resources.files("ledger.cli").joinpath("demo_scenario.jsonl").read_text("utf-8")
        receipts = emit_lines(ledger.intake(), lines.splitlines())
        say(f"pdl demo: appended {len(receipts)} events to {_where(ledger)}")
        print(render(subject_view(ledger, SUBJECT)))
    finally:
        ledger.close()
    say(
        f"\npdl demo: data in {Path(data_dir).resolve()}; look again with\n"
        f"  PDL_DATA_DIR={Path(data_dir).resolve()} pdl state {SUBJECT} --json"
    )
    return 0


def _where(ledger: Ledger) -> str:
    bootstrap = ledger.settings.kafka_bootstrap
    return "the embedded log" if bootstrap is None else f"Kafka at {bootstrap}"
