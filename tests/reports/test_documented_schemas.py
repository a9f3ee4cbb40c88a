"""Every report matches the JSON schema docs/REPORTS.md documents for it (checked by a
small validator of the JSON Schema keywords those schemas use), in both audiences and
at several instants of the scenario."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.reports.build import KINDS, KindRules
from ledger.reports.reading import Audience
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.reports.support import instant, report, seeded

DOC = Path(__file__).resolve().parents[2] / "docs" / "REPORTS.md"
_TYPES = {"null": type(None), "boolean": bool, "string": str, "array": list, "object": dict}


def documented() -> dict[str, Any]:
    blocks = re.findall(
        r"<!-- schema: (\w+) -->\n```json\n(.*?)\n```", DOC.read_text("utf-8"), re.S
    )
    return {name: json.loads(text) for name, text in blocks}


def problems(value: Any, schema: dict[str, Any], defs: dict[str, Any], path: str) -> list[str]:
    if "$ref" in schema:
        return problems(value, defs[schema["$ref"].removeprefix("#/$defs/")], defs, path)
    if "oneOf" in schema:
        fits = [s for s in schema["oneOf"] if not problems(value, s, defs, path)]
        return [] if len(fits) == 1 else [f"{path}: matches {len(fits)} of oneOf"]
    found: list[str] = []
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not any(_is(value, n) for n in names):
            return [f"{path}: {type(value).__name__} is not {types}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not in {schema['enum']}")
    timed = schema.get("format") == "date-time" and isinstance(value, str)
    if timed and datetime.fromisoformat(value).tzinfo is None:
        found.append(f"{path}: instant without a zone")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        found += [f"{path}: {k} missing" for k in schema.get("required", []) if k not in value]
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                found += problems(item, props[key], defs, f"{path}.{key}")
            elif extra is False:
                found.append(f"{path}: {key} is not documented")
            elif isinstance(extra, dict):
                found += problems(item, extra, defs, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += problems(item, schema["items"], defs, f"{path}[{i}]")
    return found


def _is(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def test_the_validator_rejects_what_the_schema_does_not_say() -> None:
    schemas = documented()
    defs = schemas["defs"]["$defs"]
    assert problems({"report": "legal_basis"}, schemas["legal_basis"], defs, "$")
    bad = {"from": "2024-01-01T00:00:00", "to": 3, "basis": None, "reason": "", "evidence": []}
    assert len(problems(bad, {"$ref": "#/$defs/segment"}, defs, "$")) == 2


@pytest.mark.parametrize("audience", list(Audience))
def test_every_report_matches_its_documented_schema(tmp_path: Path, audience: Audience) -> None:
    schemas = documented()
    defs = schemas["defs"]["$defs"]
    assert set(schemas) == {"defs", *(rules.report for rules in KINDS.values())}
    ledger = Backends(Settings.from_environment(None, tmp_path / "data"))
    try:
        subject_id = seeded(ledger)
        for at in ("2024-03-02T00:00:00Z", "2024-04-25T00:00:00Z", "2024-06-01T00:00:00Z"):
            for kind, given in [
                *((kind.value, asked(rules, subject_id)) for kind, rules in KINDS.items()),
                ("basis", {"purpose": "newsletter", "subject_id": subject_id}),
            ]:
                built = report(ledger, kind, at=instant(at), audience=audience, **given)
                name = str(built["report"])
                assert problems(built, schemas[name], defs, name) == [], (kind, at)
    finally:
        ledger.close()


def asked(rules: KindRules, subject_id: str) -> dict[str, str]:
    """What a kind must be asked about, on the scenario."""
    given = {"subject_id": subject_id} if rules.subject == "required" else {}
    return given | ({"purpose": "newsletter"} if rules.purpose == "required" else {})
