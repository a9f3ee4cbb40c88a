"""``pdl schemas``: generate the Avro contract, guard its evolution, release versions."""

from __future__ import annotations

import argparse
from pathlib import Path

from fastavro.schema import to_parsing_canonical_form

import schemas
from ledger.cli.common import Subparsers, add_command, say
from ledger.contract.avro_schema import AvroSchema
from ledger.contract.compatibility import (
    Problem,
    SchemaFileError,
    Versions,
    load_current,
    load_released,
    problems,
)
from ledger.contract.generate import rendered
from ledger.errors import InvalidRequest, Refused

DESCRIPTION = """\
The Avro schemas are the ledger's public contract: schemas/events/<Type>.avsc is the
current schema of each type, generated from the pydantic models, and
schemas/released/<Type>/v<N>.avsc keeps every released version.

  generate  write the current schemas from the models (--check: only compare)
  check     fail if a current schema cannot read every released version (backward) or
            released readers cannot read it (forward), if a released type is gone, if a
            personal field changed its marker, or if the current files are stale
  release   copy each changed current schema to its next released version

Exit status: 0 ok, 1 stale or incompatible, 2 unreadable schema files."""

EXAMPLES = """\
  pdl schemas generate && pdl schemas check
  pdl schemas generate --check              # in CI: are the checked-in files current?
  pdl schemas release                       # at a release: freeze the changed schemas"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "schemas",
        lambda _: _usage(parser),
        "generate, check and release the Avro schemas",
        DESCRIPTION,
        EXAMPLES,
    )
    nested = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND")
    generate = add_command(
        nested,
        "generate",
        run_generate,
        "write the current schemas from the models",
        "Write <Type>.avsc for every event type (and the dead letter) from the pydantic\n"
        "models into the current directory. With --check, write nothing and exit 1 if a\n"
        "file on disk differs from what the models generate, listing which.",
        "  pdl schemas generate\n  pdl schemas generate --check",
    )
    generate.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    _current_dir_option(generate)
    check = add_command(
        nested,
        "check",
        run_check,
        "check the current schemas against every released version",
        "Compare every current schema with every released version of its type, both ways,\n"
        "with the Apache Avro checker: backward (current reads vN) and forward (vN readers\n"
        "read current). Also fails if a released type has no current schema, if a field\n"
        "changed its pdl.personal marker, or if the current files are stale vs the models.\n"
        "A type with no released version is reported as unreleased, which is not an error.",
        "  pdl schemas check\n"
        "  pdl schemas check --current-dir my/events --released-dir my/released "
        "--no-stale-check",
    )
    release = add_command(
        nested,
        "release",
        run_release,
        "release the current schemas that changed",
        "For each type whose current schema differs from its latest released version (by\n"
        "Parsing Canonical Form: doc-only changes are not releases), copy it to the next\n"
        "v<N>.avsc. All or nothing: refuses, releasing nothing, if any check fails.",
        "  pdl schemas release\n  pdl schemas release --released-dir /tmp/released",
    )
    for sub in (check, release):
        _current_dir_option(sub)
        sub.add_argument(
            "--released-dir",
            type=Path,
            default=schemas.RELEASED_DIR,
            help=f"released versions, <Type>/v<N>.avsc (default: {schemas.RELEASED_DIR})",
        )
        sub.add_argument(
            "--no-stale-check",
            action="store_true",
            help="do not compare --current-dir with what the models generate "
            "(for copies and fixtures)",
        )


def _current_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--current-dir",
        type=Path,
        default=schemas.CURRENT_DIR,
        help=f"current schemas, <Type>.avsc (default: {schemas.CURRENT_DIR})",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_generate(args: argparse.Namespace) -> int:
    directory: Path = args.current_dir
    texts = _generated()
    if args.check:
        stale = stale_files(directory, texts)
        if stale:
            raise Refused(
                "\n".join(
                    [
                        *stale,
                        f"pdl schemas generate --check: {len(stale)} file(s) in {directory} "
                        "differ from the models — fix: run `pdl schemas generate` and commit",
                    ]
                )
            )
        say(f"pdl schemas generate --check: {len(texts)} schema(s) match the models")
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    changed = 0
    for name, text in texts.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
            changed += 1
    for path in sorted(directory.glob("*.avsc")):
        if path.name not in texts:
            say(f"{path}: no model generates it — delete it if the type is really gone")
    say(f"pdl schemas generate: {changed} written, {len(texts) - changed} unchanged")
    return 0


def run_check(args: argparse.Namespace) -> int:
    current, released = _load(args)
    stale = [] if args.no_stale_check else stale_files(args.current_dir, _generated())
    found = problems(current, released)
    for line in summary(current, released, found):
        print(line)
    for line in stale:
        print(f"stale: {line}")
    if found or stale:
        failed = sorted({p.type_name for p in found})
        parts = [f"{len(failed)} type(s) incompatible ({', '.join(failed)})"] if failed else []
        if stale:
            parts.append(
                f"{len(stale)} current file(s) stale vs the models "
                "(fix: run `pdl schemas generate`)"
            )
        raise Refused(f"pdl schemas check: FAILED: {'; '.join(parts)}")
    say(f"pdl schemas check: ok, {len(current)} type(s) checked")
    return 0


def run_release(args: argparse.Namespace) -> int:
    current, released = _load(args)
    stale = [] if args.no_stale_check else stale_files(args.current_dir, _generated())
    if stale:
        raise Refused(
            "\n".join(
                [
                    *stale,
                    "pdl schemas release: refused, nothing released: the current schemas are "
                    "stale vs the models — fix: run `pdl schemas generate`, then release",
                ]
            )
        )
    found = problems(current, released)
    if found:
        lines = summary(current, released, found, failing_only=True)
        raise Refused(
            "\n".join(
                [
                    *lines,
                    "pdl schemas release: refused, nothing released: incompatible with "
                    "released versions — fix the problems above (`pdl schemas check` lists them)",
                ]
            )
        )
    made = 0
    for name in sorted(current):
        versions = released.get(name, {})
        latest = max(versions, default=0)
        if latest and _canonical(versions[latest]) == _canonical(current[name]):
            print(f"{name}: unchanged (same canonical form as v{latest})")
            continue
        target = args.released_dir / name / f"v{latest + 1}.avsc"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((args.current_dir / f"{name}.avsc").read_bytes())
        print(f"{name}: released v{latest + 1} ({target})")
        made += 1
    say(f"pdl schemas release: {made} version(s) released")
    return 0


def summary(
    current: dict[str, AvroSchema],
    released: dict[str, dict[int, AvroSchema]],
    found: list[Problem],
    failing_only: bool = False,
) -> list[str]:
    """One line per type (ok, unreleased, INCOMPATIBLE), each problem indented below."""
    lines = []
    for name in sorted(set(current) | set(released)):
        mine = [p for p in found if p.type_name == name]
        if failing_only and not mine:
            continue
        versions: Versions = released.get(name, {})
        if mine:
            lines.append(f"{name}: INCOMPATIBLE")
            lines.extend(_problem_lines(p) for p in mine)
        elif not versions:
            lines.append(
                f"{name}: unreleased (no released version; `pdl schemas release` makes v1)"
            )
        else:
            span = "v1" if len(versions) == 1 else f"v1..v{max(versions)}"
            lines.append(f"{name}: ok (backward and forward compatible with {span})")
    return lines


def _problem_lines(problem: Problem) -> str:
    return (
        f"  v{problem.version} {problem.direction}: {problem.meaning}\n"
        f"    {problem.reason}\n"
        f"    fix: {problem.fix}"
    )


def stale_files(directory: Path, texts: dict[str, str]) -> list[str]:
    """Files in ``directory`` that differ from what the models generate, with why."""
    stale = []
    for name, text in texts.items():
        path = directory / name
        if not path.exists():
            stale.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            stale.append(f"{path}: differs from the models")
    stale.extend(
        f"{path}: no model generates it (if the type was released it may not vanish)"
        for path in sorted(directory.glob("*.avsc"))
        if path.name not in texts
    )
    return stale


def _generated() -> dict[str, str]:
    try:
        return rendered()
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(
            f"pdl schemas: cannot generate schemas from the models: {exc} — fix the model"
        ) from None


def _load(
    args: argparse.Namespace,
) -> tuple[dict[str, AvroSchema], dict[str, dict[int, AvroSchema]]]:
    try:
        return load_current(args.current_dir), load_released(args.released_dir)
    except SchemaFileError as exc:
        raise InvalidRequest(f"pdl schemas: {exc}") from None


def _canonical(schema: AvroSchema) -> str:
    return str(to_parsing_canonical_form(schema))
