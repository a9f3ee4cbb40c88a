"""Why an event was refused: the field, the rule broken and how to fix it.

Messages never include the submitted value, since it may be personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from ledger.errors import Refused


@dataclass(frozen=True)
class Rejection:
    field: str
    rule: str
    fix: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule} — fix: {self.fix}"


class EventRejected(Refused):
    """An event broke the contract or the policy. Carries every reason, none with values."""

    def __init__(self, rejections: list[Rejection]) -> None:
        super().__init__("; ".join(str(r) for r in rejections))
        self.rejections = rejections


_TIMESTAMP_FIX = "use an ISO 8601 timestamp with a zone, e.g. 2024-03-12T09:30:00Z"
_FIXES = {
    "missing": "add the field",
    "extra_forbidden": "remove the field, or check its spelling against docs/EVENTS.md",
    "string_pattern_mismatch": "use the documented form (see docs/EVENTS.md)",
    "datetime_from_date_parsing": _TIMESTAMP_FIX,
    "datetime_parsing": _TIMESTAMP_FIX,
    "too_short": "provide at least the minimum number of items",
    "too_long": "shorten it, or split the event",
    "string_too_long": "shorten it",
    "string_too_short": "provide a non-empty value",
    "list_type": "give a JSON array",
    "string_type": "give a JSON string",
    "model_type": "give a JSON object",
    "personal_too_long": "store a reference to the document instead of its content",
    "personal_empty": "omit the field instead of sending an empty value",
    "personal_type": "give the value as a JSON string",
}


def rejections_from(error: ValidationError) -> list[Rejection]:
    """Rejections from a pydantic error, without the offending input (it may be personal)."""
    found = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "(event)"
        fix = _FIXES.get(item["type"], "see docs/EVENTS.md for the field's type and rules")
        rule = item["msg"]
        if rule.startswith("Value error, "):
            rule, _, fix_hint = rule[len("Value error, ") :].partition("; ")
            fix = fix_hint or fix
        found.append(Rejection(field, rule, fix))
    return found
