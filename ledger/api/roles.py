"""Who may call what: FastAPI dependencies that check the bearer token against the
configured ones (``request.app.state.tokens``) and the roles an endpoint allows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.api.auth import Role, Tokens
from ledger.api.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="a token from PDL_API_TOKENS(_FILE)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def allow(*roles: Role) -> Callable[..., Role]:
    def check(request: Request, credentials: Credentials) -> Role:
        tokens: Tokens = request.app.state.tokens
        role = tokens.role_of(credentials.credentials if credentials else None)
        if role is None:
            raise ApiError(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
        if role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise ApiError(403, f"the {role.value} role may not do this (needs {allowed})")
        return role

    return check


Reader = Annotated[Role, Depends(allow(Role.dpo, Role.regulator))]
Operator = Annotated[Role, Depends(allow(Role.ops, Role.dpo))]
Dpo = Annotated[Role, Depends(allow(Role.dpo))]
