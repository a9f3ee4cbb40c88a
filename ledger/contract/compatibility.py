"""Schema evolution guard: the current schemas against every released version.

Each current schema (``schemas/events/<Type>.avsc``) is checked against every released
version of the same type (``schemas/released/<Type>/v<N>.avsc``) in both directions, with
the Apache Avro reference implementation's checker:

* **backward** — the current schema as reader, the released one as writer: the ledger
  (and every consumer that upgrades) can still read what was written with vN;
* **forward** — the released schema as reader, the current one as writer: consumers still
  on vN can read what the ledger writes now.

Two more rules the Avro checker cannot know: a released type may not vanish, and a field
present in both versions must keep its ``"pdl.personal"`` marker (Avro resolves ``bytes``
and ``string`` into each other, so without this rule a personal field could silently turn
into plaintext, or plaintext be mistaken for ciphertext).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from avro.errors import AvroException

from ledger.contract.avro_schema import PERSONAL_ATTRIBUTE, AvroSchema
from ledger.errors import InvalidRequest

#: Released versions of one type, by version number.
Versions = Mapping[int, AvroSchema]

BACKWARD = "backward"
FORWARD = "forward"
REMOVED = "removed"
PERSONAL = "personal"
INVALID = "invalid"

_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")

_FIXES = {
    "reader_field_missing_default_value": "a field added or removed must have a default; make a "
    'new field optional (`T | None = None`, "default": null) and never remove one without it',
    "type_mismatch": "keep the field's type; add a new field with the new type instead",
    "missing_enum_symbols": "never remove an enum symbol; adding one needs the released enum "
    'to have a "default" symbol',
    "missing_union_branch": "keep the union's branches; add a new optional field instead",
    "name_mismatch": "keep the record/enum name (or list the old one in its aliases)",
    "fixed_size_mismatch": "keep the fixed size",
    "type_removed": "restore the event type: a released type may not vanish (stop emitting "
    "it instead)",
    "personal_marker_changed": "keep personal fields personal (and plain fields plain); add a "
    "new field instead",
    "unparseable": "fix the schema file so that it is valid Avro",
}


class SchemaFileError(InvalidRequest):
    """A schema directory is not laid out as expected; the message says how to fix it."""


@dataclass(frozen=True)
class Problem:
    """One reason the current schema of a type may not replace a released version."""

    type_name: str
    version: int
    direction: str
    incompatibilities: tuple[str, ...]
    messages: tuple[str, ...]
    locations: tuple[str, ...]

    @property
    def meaning(self) -> str:
        return {
            BACKWARD: f"the current schema cannot read data written with v{self.version}",
            FORWARD: f"readers of v{self.version} cannot read data written with the current schema",
            REMOVED: f"released up to v{self.version} but there is no current schema",
            PERSONAL: f"a field's {PERSONAL_ATTRIBUTE} marker differs from v{self.version}",
            INVALID: f"the schema cannot be compared with v{self.version}",
        }[self.direction]

    @property
    def fix(self) -> str:
        return "; ".join(_FIXES.get(kind, "see the Avro specification") for kind in self.kinds)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.incompatibilities))

    @property
    def reason(self) -> str:
        """The checker's reason. It reports kinds, messages and locations as separate
        collections (not paired up), so they are listed side by side, not matched."""
        messages = "; ".join(f'"{m}"' for m in self.messages)
        return f"{', '.join(self.kinds)} — at {', '.join(self.locations)} — {messages}"

    def __str__(self) -> str:
        return (
            f"{self.type_name} v{self.version} {self.direction}: {self.meaning}: "
            f"{self.reason} — fix: {self.fix}"
        )


def _span(latest: int) -> str:
    return "v1" if latest == 1 else f"v1..v{latest}"


def problems(current: Mapping[str, AvroSchema], released: Mapping[str, Versions]) -> list[Problem]:
    """Every reason the current schemas may not replace the released ones; empty if none."""
    found: list[Problem] = []
    for name in sorted(released):
        versions = released[name]
        schema = current.get(name)
        if schema is None:
            latest = max(versions)
            message = f"{name} was released ({_span(latest)}) but has no current schema"
            found.append(
                Problem(name, latest, REMOVED, ("type_removed",), (message,), ("(record)",))
            )
            continue
        for version in sorted(versions):
            found.extend(compare(name, version, schema, versions[version]))
    return found


def unreleased(current: Mapping[str, AvroSchema], released: Mapping[str, Versions]) -> list[str]:
    """Current types with no released version yet (not an error: the next release makes v1)."""
    return sorted(name for name in current if not released.get(name))


def compare(name: str, version: int, current: AvroSchema, old: AvroSchema) -> list[Problem]:
    """The problems between the current schema of a type and one released version."""
    try:
        now, then = _parse(current), _parse(old)
    except AvroException as exc:
        return [Problem(name, version, INVALID, ("unparseable",), (str(exc),), ("(record)",))]
    found = []
    for direction, reader, writer, reader_json in (
        (BACKWARD, now, then, current),
        (FORWARD, then, now, old),
    ):
        # a fresh checker each time: it memoises pairs by id(), valid only while both live
        checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
        result = checker.get_compatibility(reader, writer)
        if result.compatibility is SchemaCompatibilityType.incompatible:
            found.append(
                Problem(
                    name,
                    version,
                    direction,
                    tuple(kind.value for kind in result.incompatibilities),
                    tuple(sorted(result.messages)),
                    _field_paths(reader_json, result.locations),
                )
            )
    changed = _personal_changes(current, old)
    if changed:
        messages = tuple(
            f"{path} is {'personal' if was else 'not personal'} in v{version} but "
            f"{'not personal' if was else 'personal'} now"
            for path, was in changed
        )
        paths = tuple(path for path, _ in changed)
        found.append(
            Problem(name, version, PERSONAL, ("personal_marker_changed",), messages, paths)
        )
    return found


def _parse(schema: AvroSchema) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(schema))


# --- reading the schema directories -----------------------------------------------------


def load_current(directory: Path) -> dict[str, AvroSchema]:
    """``<Type>.avsc`` files of a directory, by type name."""
    if not directory.is_dir():
        raise SchemaFileError(
            f"{directory} is not a directory of current schemas — fix: run "
            "`pdl schemas generate`, or pass the right --current-dir"
        )
    return {path.stem: _load(path) for path in sorted(directory.glob("*.avsc"))}


def load_released(directory: Path) -> dict[str, dict[int, AvroSchema]]:
    """``<Type>/v<N>.avsc`` files of a directory: released versions by type and number.

    A missing directory means nothing was released yet. Versions must be numbered 1..N
    without gaps: a gap means a released version was deleted, which the guard refuses."""
    found: dict[str, dict[int, AvroSchema]] = {}
    if not directory.exists():
        return found
    for type_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
        versions: dict[int, AvroSchema] = {}
        for path in sorted(type_dir.iterdir()):
            match = _VERSION_FILE.match(path.name)
            if match is None:
                raise SchemaFileError(
                    f"{path}: not a released version file — fix: name released versions "
                    "v1.avsc, v2.avsc, … (use `pdl schemas release`) and remove anything else"
                )
            versions[int(match.group(1))] = _load(path)
        if sorted(versions) != list(range(1, len(versions) + 1)):
            raise SchemaFileError(
                f"{type_dir}: versions {sorted(versions)} are not 1..{len(versions)} — fix: "
                "restore the missing released versions (released schemas are never deleted)"
            )
        if versions:
            found[type_dir.name] = versions
    return found


def _load(path: Path) -> AvroSchema:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaFileError(f"{path}: cannot read it as JSON ({exc}) — fix the file") from None
    if not isinstance(schema, dict):
        raise SchemaFileError(f"{path}: not an Avro record schema (a JSON object) — fix the file")
    return schema


# --- naming what the checker found --------------------------------------------------------


def _field_paths(reader: AvroSchema, locations: set[str]) -> tuple[str, ...]:
    """The checker's JSON-pointer-like locations (``/fields/5/type/items/fields/2``) as field
    paths of the reader schema (``values[].value``). The checker also reports ``/`` for
    results it merged from compatible parts, so ``/`` is kept only if nothing else is."""
    specific = sorted((loc for loc in locations if loc.strip("/")), key=_natural)
    if not specific:
        return ("(record)",)
    return tuple(dict.fromkeys(_field_path(reader, loc) for loc in specific))


def _natural(location: str) -> list[tuple[int, str]]:
    return [(int(t), "") if t.isdigit() else (-1, t) for t in location.split("/")]


def _field_path(schema: AvroSchema, location: str) -> str:
    named = dict(_named_types(schema))
    node: Any = schema
    path = ""
    tokens = [t for t in location.split("/") if t]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if isinstance(node, str):
            node = named.get(node, node)
        if token == "fields" and i + 1 < len(tokens) and isinstance(node, dict):
            field = node["fields"][int(tokens[i + 1])]
            path += ("." if path else "") + field["name"]
            node, i = field, i + 2
            continue
        if token in ("type", "items", "values") and isinstance(node, dict) and token in node:
            path += {"items": "[]", "values": "{}"}.get(token, "")
            node = node[token]
        elif token in ("symbols", "name", "size"):
            return f"{path or '(record)'} ({token})"
        else:  # a union branch index: the field itself is the useful name
            break
        i += 1
    return path or "(record)"


def _named_types(schema: Any, namespace: str = "") -> Iterator[tuple[str, AvroSchema]]:
    if isinstance(schema, list):
        for member in schema:
            yield from _named_types(member, namespace)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum", "fixed") and "name" in schema:
            namespace = schema.get("namespace", namespace)
            name = str(schema["name"])
            full = name if "." in name or not namespace else f"{namespace}.{name}"
            yield full, schema
            yield name, schema
        for field in schema.get("fields", []):
            yield from _named_types(field["type"], namespace)
        for key in ("items", "values"):
            if key in schema:
                yield from _named_types(schema[key], namespace)


def _personal_changes(current: AvroSchema, old: AvroSchema) -> list[tuple[str, bool]]:
    """(path, was personal) of fields present in both whose personal marker differs."""
    now, then = dict(_marked_fields(current)), dict(_marked_fields(old))
    return [(path, then[path]) for path in then if path in now and now[path] != then[path]]


def _marked_fields(schema: Any, prefix: str = "") -> Iterator[tuple[str, bool]]:
    """(path, personal?) of every field, e.g. ``("values[].value", True)``."""
    if isinstance(schema, list):
        for member in schema:
            yield from _marked_fields(member, prefix)
    elif isinstance(schema, dict):
        if schema.get("type") == "record":
            for field in schema.get("fields", []):
                path = f"{prefix}{field['name']}"
                yield path, bool(field.get(PERSONAL_ATTRIBUTE))
                yield from _marked_fields(field["type"], path + ".")
        elif schema.get("type") == "array":
            yield from _marked_fields(schema["items"], prefix.rstrip(".") + "[].")
        elif schema.get("type") == "map":
            yield from _marked_fields(schema["values"], prefix.rstrip(".") + "{}.")
