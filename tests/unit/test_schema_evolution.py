"""The schema evolution guard, as `pdl schemas` meets it: fixtures in tmp dirs, real CLI."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import schemas

Schema = dict[str, Any]

#: A small record with every construct the guard must follow: enum, optional, nested array
#: of records, and a personal field.
BASE: Schema = {
    "type": "record",
    "name": "Sample",
    "namespace": "org.pdl.test",
    "doc": "A test event.",
    "fields": [
        {"name": "event_id", "type": "string", "doc": "Id."},
        {
            "name": "kind",
            "type": {"type": "enum", "name": "Kind", "symbols": ["alpha", "beta", "gamma"]},
            "doc": "Kind.",
        },
        {"name": "note", "type": ["null", "string"], "default": None, "doc": "Note."},
        {
            "name": "values",
            "doc": "Values.",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Item",
                    "fields": [
                        {"name": "label", "type": "string", "doc": "Label."},
                        {"name": "value", "type": "bytes", "doc": "Sealed.", "pdl.personal": True},
                    ],
                },
            },
        },
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}, "doc": "At."},
    ],
}


def pdl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )


def fixture_dirs(tmp_path: Path, current: Schema | None, released: list[Schema]) -> list[str]:
    """Write ``Sample`` as current (unless None) and as released v1..vN; the CLI options
    (with --no-stale-check: fixtures are not what the models generate)."""
    current_dir, released_dir = tmp_path / "events", tmp_path / "released"
    current_dir.mkdir(parents=True)
    if current is not None:
        (current_dir / "Sample.avsc").write_text(json.dumps(current, indent=2), "utf-8")
    for number, schema in enumerate(released, start=1):
        path = released_dir / "Sample" / f"v{number}.avsc"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2), "utf-8")
    return [
        "--current-dir",
        str(current_dir),
        "--released-dir",
        str(released_dir),
        "--no-stale-check",
    ]


def changed(change: Callable[[Schema], None]) -> Schema:
    schema = copy.deepcopy(BASE)
    change(schema)
    return schema


def field(schema: Schema, name: str) -> Schema:
    found: Schema = next(f for f in schema["fields"] if f["name"] == name)
    return found


def item_field(schema: Schema, name: str) -> Schema:
    return field(field(schema, "values")["type"]["items"], name)


def add_required(s: Schema) -> None:
    s["fields"].append({"name": "channel", "type": "string", "doc": "New, no default."})


def string_to_long(s: Schema) -> None:
    field(s, "event_id")["type"] = "long"


def drop_symbol(s: Schema) -> None:
    field(s, "kind")["type"]["symbols"].remove("gamma")


def add_symbol(s: Schema) -> None:
    field(s, "kind")["type"]["symbols"].append("delta")


def remove_required(s: Schema) -> None:
    s["fields"] = [f for f in s["fields"] if f["name"] != "event_id"]


def nested_type(s: Schema) -> None:
    item_field(s, "label")["type"] = "int"


def unseal(s: Schema) -> None:
    value = item_field(s, "value")
    value["type"] = "string"  # Avro resolves bytes <-> string: only the marker rule sees it
    del value["pdl.personal"]


@pytest.mark.parametrize(
    "change, fragments",
    [
        (add_required, ["v1 backward", "reader_field_missing_default_value", "at channel"]),
        (string_to_long, ["v1 backward", "v1 forward", "type_mismatch", "at event_id"]),
        (drop_symbol, ["v1 backward", "missing_enum_symbols", "at kind (symbols)", "gamma"]),
        (add_symbol, ["v1 forward", "missing_enum_symbols", "at kind (symbols)", "delta"]),
        (remove_required, ["v1 forward", "reader_field_missing_default_value", "at event_id"]),
        (nested_type, ["v1 backward", "v1 forward", "type_mismatch", "at values[].label"]),
        (unseal, ["v1 personal", "personal_marker_changed", "at values[].value"]),
    ],
)
def test_incompatible_change_fails_naming_type_field_and_direction(
    tmp_path: Path, change: Callable[[Schema], None], fragments: list[str]
) -> None:
    result = pdl("schemas", "check", *fixture_dirs(tmp_path, changed(change), [BASE]))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Sample: INCOMPATIBLE" in result.stdout
    for fragment in fragments:
        assert fragment in result.stdout, f"{fragment!r} not in:\n{result.stdout}"
    assert "fix: " in result.stdout
    assert "pdl schemas check: FAILED: 1 type(s) incompatible (Sample)" in result.stderr


def test_one_direction_only_is_reported_as_that_direction(tmp_path: Path) -> None:
    result = pdl("schemas", "check", *fixture_dirs(tmp_path, changed(drop_symbol), [BASE]))
    assert "v1 backward" in result.stdout and "v1 forward" not in result.stdout


def test_compatible_change_passes(tmp_path: Path) -> None:
    def add_optional(s: Schema) -> None:
        s["fields"].append(
            {"name": "channel", "type": ["null", "string"], "default": None, "doc": "New."}
        )
        s["doc"] = "Docs may change freely."

    result = pdl("schemas", "check", *fixture_dirs(tmp_path, changed(add_optional), [BASE]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sample: ok (backward and forward compatible with v1)" in result.stdout


def test_every_released_version_is_checked(tmp_path: Path) -> None:
    v2 = changed(
        lambda s: s["fields"].append(
            {"name": "extra", "type": ["null", "string"], "default": None, "doc": "v2."}
        )
    )
    # v2 -> current drops the optional field: fine both ways. v1 -> current: fine as well.
    ok = pdl("schemas", "check", *fixture_dirs(tmp_path / "a", BASE, [BASE, v2]))
    assert ok.returncode == 0 and "compatible with v1..v2" in ok.stdout
    # an incompatibility with v1 only is still caught, and named as v1
    later = changed(string_to_long)
    bad = pdl("schemas", "check", *fixture_dirs(tmp_path / "b", later, [BASE, later]))
    assert bad.returncode == 1 and "v1 backward" in bad.stdout and "v2 " not in bad.stdout


def test_released_type_removed_from_current_fails(tmp_path: Path) -> None:
    result = pdl("schemas", "check", *fixture_dirs(tmp_path, None, [BASE]))
    assert result.returncode == 1
    assert "Sample: INCOMPATIBLE" in result.stdout and "v1 removed" in result.stdout
    assert "a released type may not vanish" in result.stdout


def test_unreleased_type_is_not_an_error(tmp_path: Path) -> None:
    result = pdl("schemas", "check", *fixture_dirs(tmp_path, BASE, []))
    assert result.returncode == 0, result.stderr
    assert "Sample: unreleased" in result.stdout


def test_release_writes_v1_then_v2_for_a_compatible_change(tmp_path: Path) -> None:
    options = fixture_dirs(tmp_path, BASE, [])
    released = tmp_path / "released" / "Sample"
    first = pdl("schemas", "release", *options)
    assert first.returncode == 0, first.stderr
    assert "Sample: released v1" in first.stdout and (released / "v1.avsc").exists()

    current = tmp_path / "events" / "Sample.avsc"
    current.write_text(json.dumps(changed(lambda s: s.update(doc="Only docs.")), indent=2))
    again = pdl("schemas", "release", *options)
    assert again.returncode == 0 and "Sample: unchanged (same canonical form as v1)" in again.stdout

    optional = {"name": "channel", "type": ["null", "string"], "default": None, "doc": "New."}
    current.write_text(json.dumps(changed(lambda s: s["fields"].append(optional)), indent=2))
    second = pdl("schemas", "release", *options)
    assert second.returncode == 0, second.stderr
    assert "Sample: released v2" in second.stdout
    assert (released / "v2.avsc").read_text() == current.read_text()
    assert sorted(p.name for p in released.iterdir()) == ["v1.avsc", "v2.avsc"]
    assert pdl("schemas", "check", *options).returncode == 0


def test_release_refuses_an_incompatible_change_and_writes_nothing(tmp_path: Path) -> None:
    options = fixture_dirs(tmp_path, changed(string_to_long), [BASE])
    result = pdl("schemas", "release", *options)
    assert result.returncode == 1
    assert "refused, nothing released" in result.stderr and "type_mismatch" in result.stderr
    assert sorted(p.name for p in (tmp_path / "released" / "Sample").iterdir()) == ["v1.avsc"]


def test_a_gap_in_released_versions_is_refused(tmp_path: Path) -> None:
    options = fixture_dirs(tmp_path, BASE, [BASE, BASE])
    (tmp_path / "released" / "Sample" / "v1.avsc").unlink()
    result = pdl("schemas", "check", *options)
    assert result.returncode == 2
    assert "versions [2] are not 1..1" in result.stderr and "fix:" in result.stderr


def test_packaged_schemas_pass_the_check_as_they_stand() -> None:
    result = pdl("schemas", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INCOMPATIBLE" not in result.stdout and "stale" not in result.stdout
    released = schemas.released_schemas()
    assert released, "nothing released: run `pdl schemas release` (the 0.1 release)"
    assert set(released) <= set(schemas.current_schemas())


def test_stale_current_files_fail_check_and_generate_check(tmp_path: Path) -> None:
    current = tmp_path / "events"
    assert pdl("schemas", "generate", "--current-dir", str(current)).returncode == 0
    assert pdl("schemas", "generate", "--check", "--current-dir", str(current)).returncode == 0
    victim = sorted(current.glob("*.avsc"))[0]
    victim.write_text(victim.read_text().replace('"doc": "', '"doc": "Edited by hand. ', 1))

    generate = pdl("schemas", "generate", "--check", "--current-dir", str(current))
    assert generate.returncode == 1
    assert f"{victim}: differs from the models" in generate.stderr
    released = tmp_path / "released"
    check = pdl("schemas", "check", "--current-dir", str(current), "--released-dir", str(released))
    assert check.returncode == 1 and f"stale: {victim}" in check.stdout
    assert "pdl schemas generate" in check.stderr
    refused = pdl(
        "schemas", "release", "--current-dir", str(current), "--released-dir", str(released)
    )
    assert refused.returncode == 1 and "stale" in refused.stderr and not released.exists()

    assert pdl("schemas", "generate", "--current-dir", str(current)).returncode == 0
    assert pdl("schemas", "generate", "--check", "--current-dir", str(current)).returncode == 0


@pytest.mark.parametrize("sub", [None, "generate", "check", "release"])
def test_help_says_what_and_gives_an_example(sub: str | None) -> None:
    result = pdl("schemas", *([sub] if sub else []), "--help")
    assert result.returncode == 0
    assert "pdl schemas" in result.stdout.split("examples:")[1]
