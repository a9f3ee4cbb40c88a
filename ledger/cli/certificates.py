"""``pdl certificates``: list, show and verify the erasure register; export the key."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.cli.common import Subparsers, add_command, open_ledger, say
from ledger.cli.terminal import printable_tree
from ledger.erasure.certificate import render
from ledger.erasure.chain import reapply
from ledger.erasure.signing import (
    SigningKeyError,
    public_key_from_pem,
    public_key_id,
    public_key_pem,
)
from ledger.errors import IntegrityError, InvalidRequest
from ledger.service import certificates
from ledger.service.backends import Backends

DESCRIPTION = """\
The erasure register: every DataErased on the log carries a certificate (canonical
JSON) signed with the ledger's Ed25519 key and chained to the previous one by SHA-256.

  list        one line per certificate
  show        every certificate, for people (--subject to pick one subject's)
  verify      check every signature, that each certificate agrees with its event, and
              the chain (no gap, no duplicate, each previous_sha256 right); exit 1
              naming each bad certificate. The key: --public-key FILE, else the one
              pinned in PDL_PINNED_PUBLIC_KEY_FILE, else (with a warning) the one in
              the data directory. --expect-head HASH --expect-count N (a head noted
              earlier, e.g. from a report) also fail a register whose tail was removed.
  head        print the register's head: the last certificate's SHA-256 and the count
              (note it: `verify --expect-head/--expect-count` checks against it)
  reapply     after restoring a key-store backup: verify the register, then destroy
              again every key it says was destroyed and re-fence fully erased
              subjects (a backup taken before an erasure holds the old keys)
  export      every certificate's exact stored text, one per line (JSON lines), for
              verification with other tools (docs/REGULATORS.md)
  public-key  print the ledger's public key (PEM), created on first use"""

EXAMPLES = """\
  pdl certificates verify
  pdl certificates public-key > ledger-signing.pem
  pdl certificates verify --public-key ledger-signing.pem
  pdl certificates head
  pdl certificates verify --expect-head 3f1c…e9 --expect-count 12
  pdl certificates show --subject sub_5f0c8a1e9b2d4c6f8a0b1c2d3e4f5a6b
  pdl certificates list --json
  pdl certificates export > register.jsonl
  pdl certificates reapply                   # after restoring keys.sqlite from a backup"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "certificates",
        run,
        "list, show or verify erasure certificates",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument(
        "action", choices=["list", "show", "verify", "head", "reapply", "export", "public-key"]
    )
    parser.add_argument(
        "--subject", help="only this subject id's certificates (list, show, export)"
    )
    parser.add_argument(
        "--public-key",
        action="append",
        type=Path,
        metavar="PEM",
        help="verify against this exported public key (repeatable)",
    )
    parser.add_argument(
        "--expect-head",
        metavar="SHA256",
        help="verify: fail unless the register still holds this head certificate",
    )
    parser.add_argument(
        "--expect-count",
        type=int,
        metavar="N",
        help="verify: fail if the register holds fewer than N certificates",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (list, show, head)")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        if args.action == "public-key":
            print(public_key_pem(ledger.signing_key.public), end="")
            return 0
        if args.action == "head":
            found = certificates.head(ledger)
            if args.json:
                print(json.dumps(found.as_json(), sort_keys=True))
            else:
                print(f"head sha256 {found.sha256}\ncount {found.count}")
            return 0
        if args.action in ("verify", "reapply"):
            # reapply trusts a verified register only
            code = verify(ledger, args.public_key, args.expect_head, args.expect_count)
            if args.action == "reapply":
                again = reapply(certificates.stored_register(ledger), ledger.keys)
                for key in again:
                    print(f"destroyed again: {key.retention_class} key {key.key_id}")
                say(f"pdl certificates reapply: {len(again)} restored key(s) destroyed again")
            return code
        stored = [
            s
            for s in certificates.stored_register(ledger)
            if args.subject is None or s.subject_id == args.subject
        ]
    finally:
        ledger.close()
    docs = [d for d in (s.document() for s in stored) if d is not None]
    if args.action == "export":
        for item in stored:
            if item.text is not None:
                print(item.text)
    elif args.json:
        print(json.dumps(docs, indent=2, sort_keys=True))
    elif args.action == "list":
        for d in printable_tree(docs):
            kept = ", ".join(r["retention_class"] for r in d.get("retained", [])) or "-"
            print(
                f"#{d['sequence']}\t{d['erased_at']}\t{d['subject_id']}\t{d['scope']}\t"
                f"{d['reason']}\t{len(d['erased']['keys_destroyed'])} key(s)\tretained: {kept}"
            )
    else:
        print("\n\n".join(render(d) for d in printable_tree(docs)) or "no certificates")
    return 0


def verify(
    ledger: Backends,
    pem_files: list[Path] | None,
    expect_head: str | None = None,
    expect_count: int | None = None,
) -> int:
    keys: dict[str, Ed25519PublicKey] = {}
    if pem_files:
        for path in pem_files:
            try:
                key = public_key_from_pem(path.read_bytes())
            except OSError as exc:
                raise InvalidRequest(
                    f"--public-key: cannot read {path}: {exc.strerror}", field="--public-key"
                ) from None
            except SigningKeyError as exc:
                raise InvalidRequest(f"--public-key {path}: {exc}", field="--public-key") from None
            keys[public_key_id(key)] = key
    else:
        trusted = certificates.register_keys(ledger)
        if trusted.warning:
            say(f"warning: {trusted.warning}")
        keys = trusted.keys
    report = certificates.verify(ledger, keys, expect_head, expect_count)
    if not report.ok:
        raise IntegrityError(
            "\n".join(
                [
                    *report.problems,
                    f"pdl certificates verify: {len(report.problems)} problem(s) "
                    f"in {report.checked} certificate(s): the register is NOT intact",
                ]
            )
        )
    print(
        f"pdl certificates verify: {report.checked} certificate(s), signatures and chain "
        f"intact; head #{report.head_sequence} sha256 {report.head_sha256}"
    )
    return 0
