"""One static bearer token guarding a service's small admin API (compared in constant time)."""

# No `from __future__ import annotations`: FastAPI must see `Depends(scheme)` of the closure.

import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No bearer token"},
    403: {"description": "Wrong token"},
}


def bearer_token(token: str, *, name: str) -> Callable[..., None]:
    """A FastAPI dependency: 401 without a bearer token, 403 with another one."""
    scheme = HTTPBearer(auto_error=False, description=name)

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)]) -> None:
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"}
            )
        if not hmac.compare_digest(credentials.credentials.encode(), token.encode()):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid token")

    return authorised
