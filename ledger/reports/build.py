"""One entry point for every report, shared by ``pdl report`` and the HTTP API: a
request (kind, subject, purpose, controller, T, K, audience) is checked, the
projections catch up, and the kind's builder runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from ledger.reports.consent_proof import consent_proof
from ledger.reports.erasure_register import erasure_register
from ledger.reports.legal_basis import legal_basis
from ledger.reports.reading import Audience, Reading, ReportRequestError, open_reading
from ledger.reports.record_of_processing import record_of_processing
from ledger.reports.retention_compliance import retention_compliance
from ledger.reports.subject_access import subject_access
from ledger.reports.transfers import transfers_outside_eea
from ledger.service.backends import Backends

SUBJECT_ID = re.compile(r"^sub_[0-9a-f]{32}$")


class ReportKind(str, Enum):  # noqa: UP042 (str() of members must not change)
    """The reports, by the short name the CLI and the API use."""

    ropa = "ropa"
    access = "access"
    basis = "basis"
    consent = "consent"
    erasure = "erasure"
    retention = "retention"
    transfers = "transfers"


@dataclass(frozen=True)
class ReportRequest:
    kind: ReportKind
    subject_id: str | None = None
    purpose: str | None = None
    controller: str | None = None
    at: datetime | None = None
    known_at: datetime | None = None
    audience: Audience = Audience.dpo


@dataclass(frozen=True)
class KindRules:
    """What a kind is about: whether it needs (or takes) a subject and a purpose."""

    summary: str
    subject: str  # "required", "optional" or "no"
    purpose: str


RULES: dict[ReportKind, KindRules] = {
    ReportKind.ropa: KindRules("record of processing activities (Art. 30)", "no", "no"),
    ReportKind.access: KindRules("subject access (Art. 15)", "required", "no"),
    ReportKind.basis: KindRules(
        "legal basis of a purpose; unlawful processing", "optional", "required"
    ),
    ReportKind.consent: KindRules("consent proof export (Art. 7(1))", "no", "required"),
    ReportKind.erasure: KindRules("erasure register and certificate verification", "no", "no"),
    ReportKind.retention: KindRules("retention compliance: overdue and upcoming", "no", "no"),
    ReportKind.transfers: KindRules("transfers outside the EEA", "no", "no"),
}


def check_request(request: ReportRequest) -> None:
    """Raise ``ReportRequestError`` naming the field if the request cannot be answered."""
    rules, kind = RULES[request.kind], request.kind.value
    if request.subject_id is None and rules.subject == "required":
        raise ReportRequestError(
            "subject", f"the {kind} report is about one subject — fix: name it"
        )
    if request.subject_id is not None and rules.subject == "no":
        raise ReportRequestError("subject", f"the {kind} report takes no subject — fix: drop it")
    if request.subject_id is not None and not SUBJECT_ID.match(request.subject_id):
        raise ReportRequestError(
            "subject", "not a subject id — fix: give sub_ followed by 32 hexadecimal digits"
        )
    if request.purpose is None and rules.purpose == "required":
        raise ReportRequestError(
            "purpose", f"the {kind} report is about one purpose — fix: name it"
        )
    if request.purpose is not None and rules.purpose == "no":
        raise ReportRequestError("purpose", f"the {kind} report takes no purpose — fix: drop it")


Builder = Callable[[Reading, ReportRequest], dict[str, Any]]

_BUILDERS: dict[ReportKind, Builder] = {
    ReportKind.ropa: lambda r, q: record_of_processing(r, q.controller),
    ReportKind.access: lambda r, q: subject_access(r, q.subject_id or ""),
    ReportKind.basis: lambda r, q: legal_basis(r, q.purpose, q.subject_id, q.controller),
    ReportKind.consent: lambda r, q: consent_proof(r, q.purpose, q.controller),
    ReportKind.erasure: lambda r, q: erasure_register(r, q.controller),
    ReportKind.retention: lambda r, q: retention_compliance(r, q.controller),
    ReportKind.transfers: lambda r, q: transfers_outside_eea(r, q.controller),
}


def build_report(ledger: Backends, request: ReportRequest, catch_up: bool = True) -> dict[str, Any]:
    """The report asked for, as a JSON-ready dict (render it with ``ledger.reports.render``)."""
    check_request(request)
    reading = open_reading(ledger, request.at, request.known_at, request.audience, catch_up)
    return _BUILDERS[request.kind](reading, request)
