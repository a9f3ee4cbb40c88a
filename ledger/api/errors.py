"""How the API says no: an ``ApiError`` carries a status and a detail; 422s are
``{"detail": [{"field": …, "reason": …}]}``, for FastAPI's own validation too, without
the value sent (it may be personal data)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ledger.errors import Failure
from ledger.log.base import LogError
from ledger.reports.reading import ReportRequestError, SubjectNotFound


class ApiError(Exception):
    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.detail, self.headers = status, detail, headers


def unprocessable(field: str, reason: str) -> ApiError:
    return ApiError(422, [{"field": field, "reason": reason}])


def instant(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise unprocessable(
            field, "not an ISO 8601 instant — fix: e.g. 2024-03-12 or 2024-03-12T09:30:00Z"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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

    @app.exception_handler(ReportRequestError)
    async def bad_request(_: Request, exc: ReportRequestError) -> JSONResponse:
        return JSONResponse({"detail": [{"field": exc.field, "reason": exc.reason}]}, 422)

    @app.exception_handler(SubjectNotFound)
    async def not_found(_: Request, exc: SubjectNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 404)

    @app.exception_handler(Failure)
    async def failed(_: Request, exc: Failure) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 500)

    @app.exception_handler(LogError)
    async def log_down(_: Request, exc: LogError) -> JSONResponse:
        return JSONResponse({"detail": f"the log is not available: {exc}"}, 503)
