"""``pdl demo``: a seed-policy scenario, the state it leaves, and the HTML reports."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from ledger.cli.common import Subparsers, add_command, say, settings_of
from ledger.cli.state import render
from ledger.reports.build import KINDS, ReportRequest, build_report
from ledger.reports.render import ReportFormat
from ledger.reports.render import render as render_report
from ledger.service.backends import Backends
from ledger.service.demo import (
    DEMO_PURPOSE,
    SCENARIO_NOW,
    SUBJECT,
    claim_for_demo,
    play_scenario,
    retention_story,
)
from ledger.service.erasure import at_instant
from ledger.service.queries import resolve_subject, subject_view

DESCRIPTION = f"""\
The first thing to run. In a fresh data directory, with no broker, it appends the
events of a customer of Informatique 70 (its privacy notice is one of the seed policies,
shipped as the catalog ledger/policy/catalogs/informatique70.toml): data collected for
the newsletter with consent, a call recording, invoices, a share with the newsletter
processor, newsletter campaigns — the April one sent after a withdrawal that was phoned
in on 10 April but recorded only after the campaign (lawful as known then, unlawful as
known now) — and an erasure request for the newsletter data, carried out by
crypto-shredding with a signed certificate. A bpost MyStamp customer (data accessed from
India under standard contractual clauses) and a NEGOMARKETS distributor's client
(processing as a processor) complete the picture.

It prints what the ledger now holds on {SUBJECT} (the e-mail is pseudonymised: only
the key store maps it to a subject id), and writes the HTML reports — record of
processing, subject access, legal basis, consent proof, erasure register, retention,
transfers — as of the scenario's present, {SCENARIO_NOW.isoformat()}, to --reports
(default: <data dir>/reports).

The data goes where every other command looks (--data-dir, PDL_DATA_DIR, the settings
file, else ~/.local/share/pdl), so `pdl state {SUBJECT}` works next; the demo
refuses a directory holding a ledger it did not create. It says what the retention
rules make of her data today: the demo never runs retention itself."""

EXAMPLES = """\
  pdl demo
  pdl demo --data-dir ./demo-data     # keep the data somewhere you choose
  pdl demo --reports ./demo-reports   # and the HTML reports there
  pdl --log kafka://127.0.0.1:9092 demo"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "demo",
        run,
        "run a seed-policy scenario, print the state, write the reports",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument(
        "--reports", metavar="DIR", help="where to write the HTML reports (<data dir>/reports)"
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    claim_for_demo(settings)  # never mixes the scenario into a real ledger
    ledger = Backends(settings)
    at_instant(ledger, SCENARIO_NOW)
    data_dir = ledger.settings.data_dir
    reports = Path(args.reports or ledger.layout.reports).resolve()
    try:
        appended = play_scenario(ledger)
        say(f"pdl demo: appended {appended} events to {_where(ledger)}")
        print(render(subject_view(ledger, SUBJECT)))
        write_reports(ledger, reports, resolve_subject(ledger, SUBJECT))
        today = datetime.now(UTC)
        story = retention_story(ledger, today)
    finally:
        ledger.close()
    if story:
        say(f"\npdl demo: retention of her data as of today ({today.date().isoformat()}):")
        say("\n".join(story))
    say(
        f"\npdl demo: data in {Path(data_dir).resolve()}; look again with\n"
        f"  {_again(args, Path(data_dir).resolve())} state {SUBJECT}\n"
        f"pdl demo: HTML reports as of {SCENARIO_NOW.isoformat()} in {reports}"
    )
    return 0


def write_reports(ledger: Backends, folder: Path, subject_id: str) -> list[Path]:
    """Write the demo's HTML reports (as of the scenario's present) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (kind, rules) in enumerate(KINDS.items()):
        purpose = DEMO_PURPOSE if rules.purpose == "required" else None
        asked = ReportRequest(
            kind,
            subject_id=subject_id if rules.subject == "required" else None,
            purpose=purpose,
            at=SCENARIO_NOW,
        )
        report = build_report(ledger, asked, catch_up=i == 0)
        path = folder / f"{rules.slug}{'-' + purpose if purpose else ''}.html"
        path.write_bytes(render_report(report, ReportFormat.html))
        written.append(path)
    return written


def _again(args: argparse.Namespace, data_dir: Path) -> str:
    """The command line that reads the same ledger again (data directory and log)."""
    words = ["pdl"]
    if args.config:
        words += ["--config", args.config]
    if args.log:
        words += ["--log", args.log]
    if args.data_dir:
        words += ["--data-dir", str(data_dir)]
    return " ".join(words)


def _where(ledger: Backends) -> str:
    bootstrap = ledger.settings.kafka_bootstrap
    return "the embedded log" if bootstrap is None else f"Kafka at {bootstrap}"
