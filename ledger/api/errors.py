"""How the API says no: the one table from kinds of error to HTTP statuses.

An ``ApiError`` carries a status and a detail, for what only HTTP knows (authentication,
a subject path that names no one). Every ``LedgerError`` goes through ``STATUSES``. 422s
are ``{"detail": [{"field": …, "reason": …}]}``, for FastAPI's own validation too,
without the value sent (it may be personal data); other errors are ``{"detail": "…"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ledger.contract.instants import parse_instant
from ledger.errors import (
    ConfigError,
    Conflict,
    IntegrityError,
    InvalidRequest,
    LedgerError,
    NotFound,
    Refused,
    Unavailable,
)

#: A class maps to the status of its nearest listed ancestor.
STATUSES: Mapping[type[LedgerError], int] = MappingProxyType(
    {
        InvalidRequest: 422,
        NotFound: 404,
        Refused: 409,  # not 422: a policy said no, no field of the request is malformed
        Conflict: 409,
        IntegrityError: 409,
        ConfigError: 500,
        Unavailable: 503,
        LedgerError: 500,
    }
)


class ApiError(Exception):
    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.detail, self.headers = status, detail, headers


def unprocessable(field: str, reason: str) -> ApiError:
    return ApiError(422, [{"field": field, "reason": reason}])


def instant(text: str | None, field: str) -> datetime | None:
    """An optional instant query parameter; a bad one is an ``InvalidRequest`` (a 422)."""
    return None if text is None else parse_instant(text, field)


def status_of(exc: LedgerError) -> int:
    """The status for an error: that of the most specific class the table lists."""
    return next(STATUSES[c] for c in type(exc).__mro__ if c in STATUSES)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {
                "field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "reason": e["msg"],
            }
            for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, 422)

    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, exc: LedgerError) -> JSONResponse:
        if isinstance(exc, InvalidRequest):
            problem = {"field": exc.field or "(request)", "reason": exc.reason}
            return JSONResponse({"detail": [problem]}, status_of(exc))
        return JSONResponse({"detail": str(exc)}, status_of(exc))
