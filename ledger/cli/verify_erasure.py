"""``pdl verify-erasure``: prove from the raw topics that a subject's erased data is gone."""

from __future__ import annotations

import argparse
import json

from ledger.cli.common import Subparsers, add_command, open_ledger, resolve_subject
from ledger.contract.base import is_subject_id
from ledger.erasure.verify import verify_erasure

DESCRIPTION = """\
Check, without the projections, that a subject's erased data cannot be read: reads
every DataErased of the subject on the log (the keys destroyed), finds every record of
the subject on the raw topics (record key = subject id), locates each personal field
by the schema's pdl.personal marks and the key id in its sealed header, and tries to
decrypt each field in the erased scope with the key it names and every key the store
still holds for the subject. Prints a summary: records and fields checked, fields in
the erased scope and how many are readable (must be 0), fields retained under a hold.
Exit status: 0 proven, 1 a field in scope opens, a record cannot be decoded, the
log's records differ from what a certificate counts and hashes, or the subject has no
DataErased. After a full erasure give the sub_… id (the natural identifier no longer
maps to it).

The subject's records are read from its own partitions only, from the first position
each certificate states, and their count and SHA-256 are checked against the
certificate's: the cost follows the subject, not the log. --full-scan reads every
event topic from its start instead (an independent audit that also covers records
before the first positions); certificates older than these statements are always
verified by a full scan."""

EXAMPLES = """\
  pdl verify-erasure sub_5f0c8a1e9b2d4c6f8a0b1c2d3e4f5a6b
  pdl verify-erasure camille.martin@example.fr --json
  pdl verify-erasure sub_5f0c8a1e9b2d4c6f8a0b1c2d3e4f5a6b --full-scan   # audit
  pdl --log kafka://127.0.0.1:9092 verify-erasure sub_5f0c8a1e9b2d4c6f8a0b1c2d3e4f5a6b"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "verify-erasure",
        run,
        "prove from the raw topics that erased data cannot be decrypted",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("subject", help="subject id (sub_…) or natural identifier")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--full-scan",
        action="store_true",
        help="read every event topic from its start, not only the subject's partitions",
    )


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        subject_id = (
            args.subject if is_subject_id(args.subject) else resolve_subject(ledger, args.subject)
        )
        result = verify_erasure(
            ledger.log, ledger.registry, ledger.topics, ledger.keys, subject_id, args.full_scan
        )
    finally:
        ledger.close()
    print(json.dumps(result.as_json(), indent=2) if args.json else result.summary())
    return 0 if result.ok else 1
