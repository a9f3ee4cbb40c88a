"""``pdl requests answer``: record the answer to a request and produce it.

- access: the person's Art. 15 report, as HTML in French or English;
- portability: the values the person provided to the controller, as JSON
  (docs/schemas/portability.schema.json);
- erasure: the link to its certificate (sequence and SHA-256 in the register);
- erasure, rectification, restriction: the recipients to tell (Art. 19), each marked
  when its ``RecipientNotified`` is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.errors import InvalidRequest
from ledger.reports.access_language import LANGUAGES, access_html
from ledger.reports.build import ReportKind, ReportRequest, build_report
from ledger.service import requests as rq
from ledger.service.backends import Backends
from ledger.service.queries import subject_state
from ledger.service.views import iso, open_value
from projections.requests import RequestState

PORTABILITY_FORMAT = "pdl-portability/1"


@dataclass(frozen=True)
class Answer:
    request: dict[str, Any]
    #: the document to send: the access report's HTML, or the portability export's JSON
    document: str | dict[str, Any] | None = None
    media_type: str | None = None
    certificate: dict[str, Any] | None = None
    recipients_to_notify: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "media_type": self.media_type,
            "certificate": self.certificate,
            "recipients_to_notify": self.recipients_to_notify,
        }


def answer(ledger: Backends, controller: str, request_id: str, language: str = "en") -> Answer:
    """Record the answer to the request and return what answers it."""
    if language not in LANGUAGES:
        raise InvalidRequest(
            f"language: {language!r} — fix: use one of {', '.join(LANGUAGES)}", field="language"
        )
    state = rq.request_state(ledger, controller, request_id)
    rq.check_answerable(ledger, state)
    assert state.subject_id is not None
    document: str | dict[str, Any] | None = None
    media_type = None
    certificate = None
    summary = f"{state.kind} answered"
    if state.kind == "access":
        report = build_report(ledger, ReportRequest(ReportKind.access, subject_id=state.subject_id))
        document, media_type = access_html(report, language), "text/html; charset=utf-8"
        summary = f"access report sent ({language})"
    elif state.kind == "portability":
        document, media_type = portability_export(ledger, state), "application/json"
        summary = "portable export sent (pdl-portability/1)"
    elif state.kind == "erasure":
        certificate = rq.erasure_certificate(ledger, state)
        summary = f"erased; certificate {certificate.sequence}"
    recipients = rq.recipients_to_notify(ledger, state)
    done = rq.record_answer(ledger, state, summary, certificate)
    return Answer(
        request=rq.request_view(ledger, done, ledger.clock()),
        document=document,
        media_type=media_type,
        certificate=None
        if certificate is None
        else {
            "sequence": certificate.sequence,
            "sha256": certificate.sha256,
            "event_id": certificate.event_id,
            "verify": "pdl certificates verify",
        },
        recipients_to_notify=recipients,
    )


def portability_export(ledger: Backends, state: RequestState) -> dict[str, Any]:
    """The values the subject provided to the controller, current (rectified values
    replace the collected ones), opened: Art. 20 gives them to the person."""
    assert state.subject_id is not None
    held = subject_state(ledger, state.subject_id)
    values = (
        []
        if held is None
        else [v for v in held.values.values() if v.controller == state.controller]
    )
    return {
        "format": PORTABILITY_FORMAT,
        "article": "GDPR Art. 20",
        "controller": state.controller,
        "request_id": state.request_id,
        "subject_id": state.subject_id,
        "as_of": iso(ledger.clock()),
        "values": [
            {
                "field": v.field,
                "category": v.category,
                "value": open_value(v, ledger.keys),
                "source": v.source,
                "purposes": list(v.purposes),
                "collected_at": iso(v.evidence.occurred_at),
            }
            for v in sorted(values, key=lambda v: (v.category, v.field))
        ],
    }
