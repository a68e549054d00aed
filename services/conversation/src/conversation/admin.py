"""The conversation admin API: the team releases a conversation from handoff."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from common.admin_auth import bearer_token
from conversation.service import SessionContended, release_handoff
from conversation.sessions import Sessions


def admin_router(sessions: Sessions, token: str) -> APIRouter:
    authorised = bearer_token(token, name="CONVERSATION_ADMIN_TOKEN")
    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(authorised)])

    @router.post(
        "/conversations/{conversation_key}/release",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={
            401: {"description": "No token"},
            403: {"description": "Wrong token"},
            404: {"description": "Unknown conversation"},
            409: {"description": "The conversation kept changing under the release; try again"},
        },
    )
    async def release(
        conversation_key: Annotated[
            str, Path(description="'<provider>:<business_id>:<user id>'", max_length=300)
        ],
    ) -> None:
        """End a handoff: the bot answers this conversation again."""
        try:
            released = await release_handoff(conversation_key, sessions, datetime.now(UTC))
        except SessionContended as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, "the conversation is busy; try again") from exc
        if not released:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")

    return router
