"""The conversation admin API: the team releases a conversation from handoff."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from conversation.service import release_handoff
from conversation.sessions import Sessions

_bearer = HTTPBearer(auto_error=False, description="CONVERSATION_ADMIN_TOKEN")


def admin_router(sessions: Sessions, token: str) -> APIRouter:
    def authorised(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"}
            )
        if not hmac.compare_digest(credentials.credentials.encode(), token.encode()):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid token")

    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(authorised)])

    @router.post(
        "/conversations/{conversation_key}/release",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={
            401: {"description": "No token"},
            403: {"description": "Wrong token"},
            404: {"description": "Unknown conversation"},
        },
    )
    async def release(
        conversation_key: Annotated[
            str, Path(description="'<provider>:<business_id>:<user id>'", max_length=300)
        ],
    ) -> None:
        """End a handoff: the bot answers this conversation again."""
        if not await release_handoff(conversation_key, sessions, datetime.now(UTC)):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")

    return router
