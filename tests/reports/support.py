"""The demo scenario as a fixture for report tests: Informatique 70's customer (consent,
a late-recorded withdrawal, campaigns, a share, a call recording, invoices, an erasure),
a bpost customer whose data is accessed from India, a NEGOMARKETS distributor's client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.contract.instants import parse_instant
from ledger.reports.build import KINDS, ReportKind, ReportRequest, build_report
from ledger.reports.render import ReportFormat, render
from ledger.service.backends import Backends
from ledger.service.demo import SCENARIO_NOW, SUBJECT, play_scenario
from ledger.service.erasure import at_instant
from ledger.service.queries import resolve_subject

__all__ = ["AT", "CALL_RECORDING", "SUBJECT"]

AT = SCENARIO_NOW
CALL_RECORDING = "recording://2024/03/04/call-1187.wav"
INVOICE = "FA-2024-0311: laptop repair, 89.00 EUR"


def seeded(ledger: Backends) -> str:
    """Play the scenario on ``ledger`` (its clock fixed at the scenario's present) and
    return Camille's subject id."""
    at_instant(ledger, SCENARIO_NOW)
    play_scenario(ledger)
    return resolve_subject(ledger, SUBJECT)


def instant(text: str) -> datetime:
    """An instant in UTC, as the command line and the API read it."""
    return parse_instant(text, "instant").astimezone(UTC)


def report(ledger: Backends, kind: str, **given: Any) -> dict[str, Any]:
    """Build a report of ``kind`` as of the scenario's present unless ``at`` is given;
    ``given``: subject_id, purpose, controller, at, known_at, audience."""
    return build_report(ledger, ReportRequest(ReportKind(kind), **{"at": AT, **given}))


def json_bytes(built: dict[str, Any]) -> bytes:
    return render(built, ReportFormat.json)


#: One request per kind, on the scenario (the access subject is filled in by the test).
REQUESTS: dict[str, dict[str, str]] = {
    kind.value: {"purpose": "newsletter"} if rules.purpose == "required" else {}
    for kind, rules in KINDS.items()
}
