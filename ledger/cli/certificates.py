"""``pdl certificates``: list, show and verify the erasure register; export the key."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.cli.common import Subparsers, add_command, open_ledger, say
from ledger.cli.terminal import printable_tree
from ledger.erasure.certificate import render
from ledger.erasure.chain import read_register, reapply, verify_register
from ledger.erasure.signing import (
    SigningKeyError,
    load_public_key,
    public_key_from_pem,
    public_key_id,
    public_key_pem,
)
from ledger.errors import IntegrityError, InvalidRequest
from ledger.service.backends import Backends

DESCRIPTION = """\
The erasure register: every DataErased on the log carries a certificate (canonical
JSON) signed with the ledger's Ed25519 key and chained to the previous one by SHA-256.

  list        one line per certificate
  show        every certificate, for people (--subject to pick one subject's)
  verify      check every signature, that each certificate agrees with its event, and
              the chain (no gap, no duplicate, each previous_sha256 right); exit 1
              naming each bad certificate. --public-key FILE verifies against an
              exported key instead of the one in the data directory.
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
        "action", choices=["list", "show", "verify", "reapply", "export", "public-key"]
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
    parser.add_argument("--json", action="store_true", help="print JSON (list, show)")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        if args.action == "public-key":
            print(public_key_pem(ledger.signing_key.public), end="")
            return 0
        if args.action in ("verify", "reapply"):
            code = verify(ledger, args.public_key)  # reapply trusts a verified register only
            if args.action == "reapply":
                register = read_register(ledger.log, ledger.registry, ledger.topics)
                again = reapply(register, ledger.keys)
                for key in again:
                    print(f"destroyed again: {key.retention_class} key {key.key_id}")
                say(f"pdl certificates reapply: {len(again)} restored key(s) destroyed again")
            return code
        stored = [
            s
            for s in read_register(ledger.log, ledger.registry, ledger.topics)
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


def verify(ledger: Backends, pem_files: list[Path] | None) -> int:
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
        own = load_public_key(ledger.layout.signing_key)
        if own is not None:
            keys[public_key_id(own)] = own
    report = verify_register(read_register(ledger.log, ledger.registry, ledger.topics), keys)
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
