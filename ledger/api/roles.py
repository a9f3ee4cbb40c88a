"""Who may call what: FastAPI dependencies that check the bearer token against the
configured ones (``request.app.state.tokens``), the roles an endpoint allows, and the
controllers a token is scoped to (``ledger.api.auth.Grant``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.api.auth import Grant, Role, Tokens
from ledger.api.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="a token from PDL_API_TOKENS(_FILE)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _granted(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Grant:
    tokens: Tokens = request.app.state.tokens
    grant = tokens.grant_of(credentials.credentials if credentials else None)
    if grant is None:
        raise ApiError(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
    # kept for the scope check of the endpoint (``check_read_scope``)
    request.state.grant = grant
    return grant


def _refuse_role(grant: Grant, roles: tuple[Role, ...]) -> None:
    if grant.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise ApiError(403, f"the {grant.role.value} role may not do this (needs {allowed})")


def allow(*roles: Role) -> Callable[..., Role]:
    def check(request: Request, credentials: Credentials) -> Role:
        grant = _granted(request, credentials)
        _refuse_role(grant, roles)
        return grant.role

    return check


def grant_for(*roles: Role) -> Callable[..., Grant]:
    """Like ``allow``, giving the endpoint the whole grant (role and scope)."""

    def check(request: Request, credentials: Credentials) -> Grant:
        grant = _granted(request, credentials)
        _refuse_role(grant, roles)
        return grant

    return check


def check_read_scope(request: Request, controller: str | None) -> None:
    """403 unless the token may read ``controller``'s data: a scoped token must name
    one controller of its scope (a report about every controller is not for it)."""
    grant: Grant | None = getattr(request.state, "grant", None)
    if grant is None or grant.covers(controller):
        return
    if controller is None:
        raise ApiError(
            403,
            "this token is scoped to some controllers: name one of them with ?controller=",
        )
    raise ApiError(403, "this token may not read that controller's data")


Reader = Annotated[Role, Depends(allow(Role.dpo, Role.regulator))]
Operator = Annotated[Role, Depends(allow(Role.ops, Role.dpo))]
Dpo = Annotated[Role, Depends(allow(Role.dpo))]
Emitter = Annotated[Grant, Depends(grant_for(Role.emitter))]
