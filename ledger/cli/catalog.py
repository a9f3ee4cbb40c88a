"""``pdl catalog``: validate, publish and list policy catalogs."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

from pydantic import ValidationError

from ledger.cli.common import Subparsers, add_command, open_ledger, say
from ledger.contract.rejection import EventRejected, rejections_from
from ledger.errors import InvalidRequest, Refused
from ledger.policy.catalog import Catalog, load_catalog
from ledger.policy.check import check
from ledger.policy.publish import publication

DESCRIPTION = """\
A catalog transcribes one controller's privacy notice (TOML; see
ledger/policy/catalogs/ for the five seed notices): purposes with their legal basis,
data categories, recipients with country and transfer safeguard, retention rules, each
entry quoting the sentence it comes from. Events are checked against the version in
force at their valid time.

  validate FILE   check a catalog file; exit 1 listing every problem (field and rule)
  publish FILE    append a PolicyPublished event: the version takes effect at its
                  effective_from for every process reading the log
  list            every known version: packaged with pdl, and published on the log"""

EXAMPLES = """\
  pdl catalog validate ledger/policy/catalogs/informatique70.toml
  pdl catalog publish my-controller-2025-01-01.toml
  pdl catalog list"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers, "catalog", run, "validate, publish and list catalogs", DESCRIPTION, EXAMPLES
    )
    parser.add_argument("action", choices=["validate", "publish", "list"])
    parser.add_argument("file", nargs="?", type=Path, help="catalog file (TOML)")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args)
    if args.file is None:
        raise InvalidRequest(f"pdl catalog {args.action}: give the catalog FILE", field="FILE")
    catalog = validated(args.file)
    if args.action == "validate":
        print(
            f"{args.file}: valid — {catalog.controller.id} version {catalog.version}, "
            f"effective {catalog.effective_from.isoformat()}, {len(catalog.purposes)} "
            f"purposes, {len(catalog.recipients)} recipients"
        )
        return 0
    ledger = open_ledger(args)
    try:
        event = publication(catalog, ledger.clock())
        problems = check(event, ledger.catalogs, ledger.clock())
        if problems:
            raise EventRejected(problems)
        (receipt,) = ledger.intake().append([event])
    finally:
        ledger.close()
    say(
        f"pdl catalog: published {catalog.controller.id} {catalog.version} "
        f"(event {receipt.event_id}, effective {catalog.effective_from.isoformat()})"
    )
    return 0


def validated(path: Path) -> Catalog:
    try:
        return load_catalog(path)
    except OSError as exc:
        raise InvalidRequest(f"{path}: cannot read it ({exc.strerror})", field="FILE") from None
    except tomllib.TOMLDecodeError as exc:
        raise Refused(f"{path}: not valid TOML ({exc})") from None
    except ValidationError as exc:
        lines = [f"{path}: {r}" for r in rejections_from(exc)]
        raise Refused("\n".join([*lines, f"{path}: {len(lines)} problem(s)"])) from None


def _list(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        for c in ledger.catalogs.all():
            print(
                f"{c.controller.id}\t{c.version}\t{c.effective_from.isoformat()}\t"
                f"{len(c.purposes)} purposes\t{c.source}"
            )
    finally:
        ledger.close()
    return 0
