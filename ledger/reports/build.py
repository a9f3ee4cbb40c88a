"""One entry point for every report, shared by ``pdl report``, ``pdl basis`` and the HTTP
API, and the one registry of report kinds: each kind's summary, what it is about
(subject, purpose, controller), its builder and its name and title. The CLI's choices,
the API's endpoints and the demo's reports are all derived from ``KINDS``.

A request (kind, subject, purpose, controller, T, K, audience) is checked, the
projections catch up, and the kind's builder runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from ledger.contract.base import is_subject_id
from ledger.reports import (
    consent_proof,
    erasure_register,
    legal_basis,
    record_of_processing,
    requests_overdue,
    retention_compliance,
    subject_access,
    transfers,
)
from ledger.reports.reading import Audience, Reading, ReportRequestError, open_reading
from ledger.service.backends import Backends


class ReportKind(str, Enum):  # noqa: UP042 (str() of members must not change)
    """The reports, by the short name the CLI and the API use (``KINDS`` says the rest)."""

    ropa = "ropa"
    access = "access"
    basis = "basis"
    consent = "consent"
    erasure = "erasure"
    retention = "retention"
    transfers = "transfers"
    requests = "requests"


@dataclass(frozen=True)
class ReportRequest:
    kind: ReportKind
    subject_id: str | None = None
    purpose: str | None = None
    controller: str | None = None
    at: datetime | None = None
    known_at: datetime | None = None
    audience: Audience = Audience.dpo


Need = Literal["required", "optional", "no"]
Builder = Callable[[Reading, ReportRequest], dict[str, Any]]


@dataclass(frozen=True)
class KindRules:
    """One kind of report: what it answers, what it is about, and how it is built."""

    summary: str
    subject: Need
    purpose: Need
    build: Builder
    report: str  # the ``report`` field of its JSON (the schema's name in docs/REPORTS.md)
    title: str
    slug: str  # a file name for it, e.g. the demo's HTML
    controller: bool = True  # whether ``--controller`` narrows it or picks the owner


KINDS: dict[ReportKind, KindRules] = {
    ReportKind.ropa: KindRules(
        "record of processing activities (Art. 30)",
        "no",
        "no",
        lambda r, q: record_of_processing.record_of_processing(r, q.controller),
        record_of_processing.REPORT,
        record_of_processing.TITLE,
        "record-of-processing",
    ),
    ReportKind.access: KindRules(
        "subject access (Art. 15)",
        "required",
        "no",
        lambda r, q: subject_access.subject_access(r, q.subject_id or ""),
        subject_access.REPORT,
        subject_access.TITLE,
        "subject-access",
        controller=False,
    ),
    ReportKind.basis: KindRules(
        "legal basis of a purpose; unlawful processing",
        "optional",
        "required",
        lambda r, q: legal_basis.legal_basis(r, q.purpose, q.subject_id, q.controller),
        legal_basis.REPORT,
        legal_basis.TITLE,
        "legal-basis",
    ),
    ReportKind.consent: KindRules(
        "consent proof export (Art. 7(1))",
        "no",
        "required",
        lambda r, q: consent_proof.consent_proof(r, q.purpose, q.controller),
        consent_proof.REPORT,
        consent_proof.TITLE,
        "consent-proof",
    ),
    ReportKind.erasure: KindRules(
        "erasure register and certificate verification",
        "no",
        "no",
        lambda r, q: erasure_register.erasure_register(r, q.controller),
        erasure_register.REPORT,
        erasure_register.TITLE,
        "erasure-register",
    ),
    ReportKind.retention: KindRules(
        "retention compliance: overdue and upcoming",
        "no",
        "no",
        lambda r, q: retention_compliance.retention_compliance(r, q.controller),
        retention_compliance.REPORT,
        retention_compliance.TITLE,
        "retention",
    ),
    ReportKind.transfers: KindRules(
        "transfers outside the EEA",
        "no",
        "no",
        lambda r, q: transfers.transfers_outside_eea(r, q.controller),
        transfers.REPORT,
        transfers.TITLE,
        "transfers",
    ),
    ReportKind.requests: KindRules(
        "requests from people past their deadline (Art. 12(3))",
        "no",
        "no",
        lambda r, q: requests_overdue.requests_overdue(r, q.controller),
        requests_overdue.REPORT,
        requests_overdue.TITLE,
        "requests-overdue",
    ),
}
if set(KINDS) != set(ReportKind):  # pragma: no cover (a kind added to one list only)
    raise AssertionError("every ReportKind needs its KindRules in KINDS")


def check_request(request: ReportRequest) -> None:
    """Raise ``ReportRequestError`` naming the field if the request cannot be answered."""
    rules, kind = KINDS[request.kind], request.kind.value
    if request.subject_id is None and rules.subject == "required":
        raise ReportRequestError(
            "subject", f"the {kind} report is about one subject — fix: name it"
        )
    if request.subject_id is not None and rules.subject == "no":
        raise ReportRequestError("subject", f"the {kind} report takes no subject — fix: drop it")
    if request.subject_id is not None and not is_subject_id(request.subject_id):
        raise ReportRequestError(
            "subject", "not a subject id — fix: give sub_ followed by 32 hexadecimal digits"
        )
    if request.purpose is None and rules.purpose == "required":
        raise ReportRequestError(
            "purpose", f"the {kind} report is about one purpose — fix: name it"
        )
    if request.purpose is not None and rules.purpose == "no":
        raise ReportRequestError("purpose", f"the {kind} report takes no purpose — fix: drop it")


def build_report(ledger: Backends, request: ReportRequest, catch_up: bool = True) -> dict[str, Any]:
    """The report asked for, as a JSON-ready dict (render it with ``ledger.reports.render``)."""
    check_request(request)
    reading = open_reading(ledger, request.at, request.known_at, request.audience, catch_up)
    return KINDS[request.kind].build(reading, request)
