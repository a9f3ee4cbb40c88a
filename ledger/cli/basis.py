"""``pdl basis``: the legal basis of a purpose for a subject at an instant, with evidence."""

from __future__ import annotations

import argparse
from typing import Any

from ledger.cli.common import Subparsers, add_command, instant, open_ledger, resolve_subject
from ledger.cli.terminal import printable_json, printable_tree
from ledger.reports.build import ReportKind, ReportRequest, build_report
from ledger.reports.legal_basis import one_subject

DESCRIPTION = """\
Answer "on what legal basis was purpose P of subject S processed at instant T, as the
ledger knew it at instant K?" (K defaults to everything recorded so far). Valid time is
when things happened; record time is when the ledger learned them: a withdrawal phoned
in on day 40 and recorded on day 45 counts from day 40, but only for questions asked as
known at day 45 or later. Prints the basis (or none, and why), its interval in valid
time up to T, the record-time instant from which the ledger gave this answer, the
evidence (event ids and log positions), the basis over valid time, and every
processing of the purpose up to T judged as known when recorded and as known at K.
This is the legal-basis report (`pdl report basis`) for one subject: --json prints its
entry for the subject with T, K, the log positions and the parameters (the shapes are
in docs/REPORTS.md, `legal_basis`)."""

EXAMPLES = """\
  pdl basis camille.martin@example.fr newsletter --at 2024-03-15
  pdl basis camille.martin@example.fr newsletter --at 2024-04-12T08:00Z --known-at 2024-04-12
  pdl basis sub_5f0c8a1e9b2d4c6f8a0b1c2d3e4f5a6b marketing --at 2024-03-15 --json"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "basis",
        run,
        "the legal basis of a purpose for a subject at an instant",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("subject", help="subject id (sub_…) or natural identifier")
    parser.add_argument("purpose", help="purpose id from the controller's catalog")
    parser.add_argument(
        "--at", type=instant, required=True, help="the instant asked about (ISO 8601)"
    )
    parser.add_argument(
        "--known-at", type=instant, help="as the ledger knew it then (default: everything)"
    )
    parser.add_argument("--controller", help="the controller, if several have this purpose")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        request = ReportRequest(
            ReportKind.basis,
            subject_id=resolve_subject(ledger, args.subject, args.controller),
            purpose=args.purpose,
            controller=args.controller,
            at=args.at,
            known_at=args.known_at,
        )
        view = one_subject(build_report(ledger, request))
    finally:
        ledger.close()
    print(printable_json(view, indent=2) if args.json else render(view))
    return 0


def render(v: dict[str, Any]) -> str:
    v = printable_tree(v)  # reasons and notes others typed: nothing a terminal obeys
    answer = v["basis_at"]
    lines = [
        f"subject    {v['subject_id']}",
        f"purpose    {v['purpose']} ({v['controller']})",
        f"at         {v['at']} (as known at {v['known_at'] or 'everything recorded'})",
        f"basis      {answer['basis'] or 'none'}: {answer['reason']}",
        f"valid      from {answer['valid_from'] or 'the beginning'} "
        f"to {answer['valid_to'] or 'T at least'}",
        f"believed   from {answer['believed_from'] or 'the beginning'} "
        f"until {answer['believed_until'] or 'K at least'} (record time)",
        "evidence",
        *(
            f"  {e['kind']:<18} {e['occurred_at']} recorded {e['recorded_at']} "
            f"{e['position']} event {e['event_id']}{_claim(e.get('imported'))}"
            for e in answer["evidence"]
        ),
    ]
    if not answer["evidence"]:
        lines.append("  the catalog alone" if answer["basis"] else "  -")
    lines.append("over time")
    lines += [
        f"  {s['from']} to {s['to']}: {s['basis'] or 'none'} ({s['reason']})" for s in v["timeline"]
    ] or ["  -"]
    lines.append("processing")
    lines += [
        f"  {j['occurred_at']} {j['position']} {j['kind']} by {j['system'] or j['recipient']}: "
        f"{j['verdict_then']} as known then, {j['verdict_now']} as known at K "
        f"({'; '.join(j['breaches_now']) or j['reason_now']})"
        for j in v["processing"]
    ] or ["  -"]
    return "\n".join(lines)


def _claim(imported: dict[str, str] | None) -> str:
    """An import's claim, after the fact it dates: the record time before it is the
    ledger's own, when the import appended it."""
    if not imported:
        return ""
    source, claimed = imported["source"], imported["recorded_at"]
    return f" (imported from {source}, which says it recorded it {claimed})"
