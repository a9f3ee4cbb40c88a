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
from ledger.policy.quotes import misquotes

DESCRIPTION = """\
A catalog transcribes one controller's privacy notice (TOML; see
ledger/policy/catalogs/ for the five seed notices): purposes with their legal basis,
data categories, recipients with country and transfer safeguard, retention rules, each
entry quoting the sentence it comes from. Events are checked against the version in
force at their valid time.

  validate FILE   check a catalog file; exit 1 listing every problem (field and rule);
                  with --source NOTICE, also that every quote is verbatim in the notice
                  (up to whitespace and typographic apostrophes)
  publish FILE    append a PolicyPublished event: the version takes effect at its
                  effective_from for every process reading the log; one effective
                  in the past needs --retroactive (answers "as known at K" before
                  the publication keep the versions published by K)
  list            every known version: packaged with pdl, and published on the log"""

EXAMPLES = """\
  pdl catalog validate ledger/policy/catalogs/informatique70.toml
  pdl catalog validate ledger/policy/catalogs/informatique70.toml \
      --source ../shared/seeds/004_b70c6bd5005e2278.txt
  pdl catalog publish my-controller-2030-01-01.toml
  pdl catalog publish my-controller-2025-01-01.toml --retroactive
  pdl catalog list"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers, "catalog", run, "validate, publish and list catalogs", DESCRIPTION, EXAMPLES
    )
    parser.add_argument("action", choices=["validate", "publish", "list"])
    parser.add_argument("file", nargs="?", type=Path, help="catalog file (TOML)")
    parser.add_argument(
        "--retroactive",
        action="store_true",
        help="publish a version whose effective_from is already past: it changes what the "
        "ledger believes about that past from now on (reports show it as retroactive)",
    )
    parser.add_argument(
        "--source",
        metavar="NOTICE",
        type=Path,
        help="validate: the notice (text) the catalog transcribes; every quote must be in it",
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args)
    if args.file is None:
        raise InvalidRequest(f"pdl catalog {args.action}: give the catalog FILE", field="FILE")
    catalog = validated(args.file)
    if args.action == "validate":
        if args.source is not None:
            _check_quotes(args.file, catalog, args.source)
        print(
            f"{args.file}: valid — {catalog.controller.id} version {catalog.version}, "
            f"effective {catalog.effective_from.isoformat()}, {len(catalog.purposes)} "
            f"purposes, {len(catalog.recipients)} recipients"
        )
        return 0
    ledger = open_ledger(args)
    try:
        now = ledger.clock()
        if catalog.effective_from < now and not args.retroactive:
            raise Refused(
                f"{args.file}: effective_from {catalog.effective_from.isoformat()} is in the "
                "past: publishing it changes what the ledger believes about that past",
                "pass --retroactive to publish it as a retroactive change, or set a "
                "future effective_from",
            )
        event = publication(catalog, now)
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


def _check_quotes(path: Path, catalog: Catalog, source: Path) -> None:
    try:
        notice = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequest(
            f"{source}: cannot read the notice ({exc.strerror})", field="--source"
        ) from None
    wrong = misquotes(catalog, notice)
    if wrong:
        lines = [
            f"{path}: {where}: not found verbatim in {source.name}: {quote[:80]!r}"
            for where, quote in wrong
        ]
        fix = "copy the notice's sentence exactly (only whitespace and apostrophes may differ)"
        raise Refused("\n".join([*lines, f"{path}: {len(lines)} misquote(s)"]), fix)


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
