"""The ASGI application: one endpoint per report kind, generated from the registry
(``ledger.reports.build.KINDS``), and ``/reports/{kind}`` for any;
a subject look-up for the DPO, ``/metrics`` for ops, and ``/health``.

Every request first passes ``ledger.api.gate`` (token before body, body cap, failed
authentications limited, security headers). Errors: no or unknown token 401; a role
not allowed 403; a malformed request 422 as
``{"detail": [{"field": …, "reason": …}]}`` — never echoing the value sent, which may
be personal; an unknown subject 404.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from ledger import __version__
from ledger.api.auth import Role, Tokens
from ledger.api.docs import docs_html
from ledger.api.errors import ApiError, install_handlers, instant
from ledger.api.gate import MAX_BODY_BYTES, Gate
from ledger.api.ingest import install_ingestion
from ledger.api.requests import install_requests
from ledger.api.roles import Dpo, Operator, Reader, check_read_scope
from ledger.api.service import METRICS_MEDIA_TYPE, ReportService
from ledger.reports.build import KINDS, ReportKind, ReportRequest
from ledger.reports.reading import Audience
from ledger.reports.render import ReportFormat
from ledger.service.settings import Settings

DESCRIPTION = """\
Point-in-time reports of the personal-data ledger, the same as `pdl report` builds:
each is computed as of an instant `at` (default now) and, where it matters, as known at
`known_at`, and states the log positions it was computed from. JSON is canonical
(sorted keys, fixed separators): the same log and the same `at` give the same bytes.

Authenticate with `Authorization: Bearer <token>`. Roles: **dpo** (every report,
personal fields decrypted; metrics), **regulator** (every report, personal fields shown
as `[withheld]`), **ops** (`/metrics` only). 401: no or unknown token; 403: the role may
not; 413: a body over the cap; 422: a malformed request, as
`{"detail": [{"field", "reason"}]}`, never repeating the value sent; 429: too many failed
authentications from one address."""

AtQuery = Annotated[str | None, Query(description="the instant T, ISO 8601 (default now)")]
KnownAtQuery = Annotated[
    str | None, Query(description="as the ledger knew it at K, ISO 8601 (default: everything)")
]
FormatQuery = Annotated[ReportFormat, Query(description="json, csv or html")]
ControllerQuery = Annotated[str | None, Query(description="controller id from the catalogs")]
SubjectPath = Annotated[str, Path(description="subject id: sub_ and 32 hex digits")]
PurposePath = Annotated[str, Path(description="purpose id from the controller's catalog")]
SubjectQuery = Annotated[str | None, Query(description="one subject id (sub_…)")]
PurposeQuery = Annotated[str | None, Query(description="purpose id")]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {}, "text/csv": {}, "text/html": {}},
        "description": "the report (schemas: docs/REPORTS.md)",
    },
    401: {"description": "no token, or an unknown one"},
    403: {"description": "the token's role may not read this"},
    404: {"description": "no events recorded for this subject"},
    422: {"description": "malformed request: detail names each field and the reason"},
}


class Lookup(BaseModel):
    identifier: str = Field(min_length=1, max_length=320, description="e-mail or customer no.")
    controller: str | None = Field(
        default=None,
        max_length=64,
        description="The controller: a person has one subject id per controller; needed "
        "when several controllers know the identifier.",
    )


router = APIRouter()


def _answer(
    request: Request, role: Role, kind: ReportKind, fmt: ReportFormat, **given: Any
) -> Response:
    check_read_scope(request, given.get("controller"))
    asked = ReportRequest(
        kind,
        subject_id=given.get("subject"),
        purpose=given.get("purpose"),
        controller=given.get("controller"),
        at=instant(given.get("at"), "at"),
        known_at=instant(given.get("known_at"), "known_at"),
        audience=Audience.dpo if role is Role.dpo else Audience.regulator,
    )
    service: ReportService = request.app.state.service
    body, media_type, name = service.report(asked, fmt)
    disposition = f'inline; filename="{name}.{fmt.value}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


def _kind_endpoint(kind: ReportKind) -> tuple[str, Callable[..., Response]]:
    """The documented endpoint of one kind, from its rules in ``KINDS``: what the kind is
    required to be about goes in the path, what it may be about in the query."""
    rules = KINDS[kind]
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("request", keyword, annotation=Request),
        inspect.Parameter("role", keyword, annotation=Reader),
    ]
    path = f"/reports/{kind.value}"
    if rules.subject == "required":
        path += "/{subject}"
        params.append(inspect.Parameter("subject", keyword, annotation=SubjectPath))
    elif rules.purpose == "required":
        path += "/{purpose}"
        params.append(inspect.Parameter("purpose", keyword, annotation=PurposePath))
    if rules.subject == "optional":
        params.append(inspect.Parameter("subject", keyword, annotation=SubjectQuery, default=None))
    if rules.purpose == "optional":
        params.append(inspect.Parameter("purpose", keyword, annotation=PurposeQuery, default=None))
    if rules.controller:
        params.append(
            inspect.Parameter("controller", keyword, annotation=ControllerQuery, default=None)
        )
    params += [
        inspect.Parameter("at", keyword, annotation=AtQuery, default=None),
        inspect.Parameter("known_at", keyword, annotation=KnownAtQuery, default=None),
        inspect.Parameter("format", keyword, annotation=FormatQuery, default=ReportFormat.json),
    ]

    def report(**given: Any) -> Response:
        request, role, fmt = given.pop("request"), given.pop("role"), given.pop("format")
        return _answer(request, role, kind, fmt, **given)

    report.__name__ = kind.value
    report.__signature__ = inspect.Signature(params, return_annotation=Response)  # type: ignore[attr-defined]
    return path, report


for _kind, _rules in KINDS.items():
    _path, _endpoint = _kind_endpoint(_kind)
    router.add_api_route(
        _path,
        _endpoint,
        methods=["GET"],
        tags=["reports"],
        responses=_RESPONSES,
        summary=_rules.summary[0].upper() + _rules.summary[1:],
    )


@router.get(
    "/reports/{kind}",
    tags=["reports"],
    responses=_RESPONSES,
    summary="Any report by kind: " + ", ".join(k.value for k in KINDS),
)
def any_report(
    request: Request,
    role: Reader,
    kind: ReportKind,
    subject: SubjectQuery = None,
    purpose: PurposeQuery = None,
    controller: ControllerQuery = None,
    at: AtQuery = None,
    known_at: KnownAtQuery = None,
    format: FormatQuery = ReportFormat.json,
) -> Response:
    return _answer(
        request,
        role,
        kind,
        format,
        subject=subject,
        purpose=purpose,
        controller=controller,
        at=at,
        known_at=known_at,
    )


@router.post("/subjects/lookup", tags=["subjects"], summary="The subject id of an identifier")
def lookup(request: Request, body: Lookup, _: Dpo) -> dict[str, str]:
    service: ReportService = request.app.state.service
    found = service.subject_for(body.identifier, body.controller)
    if found is None:
        raise ApiError(404, "no subject is known by that identifier")
    return {"subject_id": found}


@router.get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics (ops, dpo)",
    response_class=Response,
)
def metrics(request: Request, _: Operator) -> Response:
    service: ReportService = request.app.state.service
    return Response(service.metrics(), media_type=METRICS_MEDIA_TYPE)


@router.get("/health", tags=["operations"], summary="Liveness (no token needed)")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/docs", tags=["operations"], summary="This API, as a page", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(docs_html(request.app.openapi()))


def create_app(settings: Settings, tokens: Tokens, max_body: int = MAX_BODY_BYTES) -> FastAPI:
    """The application for one ledger (``settings``) and one set of tokens, behind the
    gate (``ledger.api.gate``) that refuses bodies over ``max_body`` bytes."""
    service = ReportService(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="pdl — personal-data ledger reports",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads from a CDN: /docs is ledger.api.docs instead
        redoc_url=None,
    )
    app.state.service = service
    app.state.tokens = tokens
    app.include_router(router)
    install_ingestion(app, settings)
    install_requests(app, settings)
    install_handlers(app)
    app.add_middleware(Gate, tokens=tokens, max_body=max_body)
    return app
