"""``pdl report``: the reports a DPO or a supervisory authority asks for, as of an instant."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ledger.cli.common import Subparsers, add_command, instant, open_ledger, resolve_subject, say
from ledger.errors import InvalidRequest
from ledger.reports.build import KINDS, ReportKind, ReportRequest, build_report
from ledger.reports.reading import Audience
from ledger.reports.render import ReportFormat, render

DESCRIPTION = (
    """\
Build a report as of an instant T (--at, default now) and, where it matters, as the
ledger knew it at K (--known-at; default: everything in the log up to the positions the
report states). The projections catch up first; every report names the log positions it
was computed from, so the same log and the same T (and K) give the same report, byte
for byte. KIND is one of:

"""
    + "\n".join(f"  {k.value:<10} {rules.summary}" for k, rules in KINDS.items())
    + """

access takes a SUBJECT (subject id sub_… or natural identifier); basis takes --purpose
and optionally a SUBJECT (without one: every subject with facts for the purpose);
consent takes --purpose. --controller narrows ropa, erasure, retention and transfers,
and picks the controller when several declare the purpose. Formats: json (canonical:
sorted keys, fixed separators), csv (a few # lines stating T, K and the positions, then
the table; several tables get a first column "table"), html (one self-contained page
with a timeline figure for access and basis). Personal fields are decrypted, as for a
DPO; --withhold shows them as [withheld], as the regulator's view does."""
)

EXAMPLES = """\
  pdl report ropa --controller informatique70 --format html --out ropa.html
  pdl report access camille.martin@example.fr --at 2024-04-30T12:00Z --format html
  pdl report basis --purpose newsletter --at 2024-04-30 --known-at 2024-04-11
  pdl report basis camille.martin@example.fr --purpose newsletter --format json
  pdl report consent --purpose newsletter --format csv --out consent-proof.csv
  pdl report erasure --withhold
  pdl report retention --at 2024-06-01
  pdl report transfers --format csv"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "report",
        run,
        "build a point-in-time report (ropa, access, basis, ...)",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument(
        "kind",
        choices=[k.value for k in KINDS],
        metavar="KIND",
        help=", ".join(k.value for k in KINDS),
    )
    parser.add_argument("subject", nargs="?", help="subject id (sub_…) or natural identifier")
    parser.add_argument("--purpose", help="purpose id (basis, consent)")
    parser.add_argument("--controller", help="controller id from the catalogs")
    parser.add_argument(
        "--at", type=instant, help="the instant T the report is about (ISO 8601; default now)"
    )
    parser.add_argument("--known-at", type=instant, help="as the ledger knew it at K (ISO 8601)")
    parser.add_argument(
        "--format",
        choices=[f.value for f in ReportFormat],
        default="json",
        help="json (default), csv or html",
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write here instead of stdout")
    parser.add_argument(
        "--withhold",
        action="store_true",
        help="show personal fields as [withheld] (the regulator's view)",
    )


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        kind = ReportKind(args.kind)
        subject_id = (
            resolve_subject(ledger, args.subject, args.controller) if args.subject else None
        )
        request = ReportRequest(
            kind,
            subject_id=subject_id,
            purpose=args.purpose,
            controller=args.controller,
            at=args.at,
            known_at=args.known_at,
            audience=Audience.regulator if args.withhold else Audience.dpo,
        )
        report = build_report(ledger, request)
    finally:
        ledger.close()
    data = render(report, ReportFormat(args.format))
    if args.out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    try:
        args.out.write_bytes(data)
    except OSError as exc:
        raise InvalidRequest(
            f"--out: cannot write {args.out}: {exc.strerror}", field="--out"
        ) from None
    say(f"pdl report: {report['report']} as of {report['at']} written to {args.out}")
    return 0
