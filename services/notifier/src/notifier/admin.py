"""Read-only HTTP view of the delivery log for the admin side (bearer token)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict

from common.admin_auth import RESPONSES, bearer_token
from notifier.delivery_log import DeliveryLog
from notifier.statuses import DeliveryState


class DeliveryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: str
    provider: str
    business_id: str | None
    conversation_key: str | None
    recipient: str
    kind: str
    status: DeliveryState
    attempts: int
    last_error: str | None
    provider_message_id: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    limit: int
    offset: int
    next_offset: int | None


def deliveries_router(delivery_log: DeliveryLog, token: str) -> APIRouter:
    authorised = bearer_token(token, name="NOTIFIER_ADMIN_TOKEN")

    router = APIRouter(
        tags=["deliveries"],
        dependencies=[Depends(authorised)],
        responses=RESPONSES,
    )

    @router.get("/deliveries")
    async def list_deliveries(
        conversation_key: Annotated[str | None, Query(max_length=300)] = None,
        delivery_status: Annotated[DeliveryState | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> DeliveryPage:
        """Outbound messages, newest first, by conversation and/or status."""
        rows = await delivery_log.search(
            conversation_key=conversation_key, status=delivery_status, limit=limit + 1, offset=offset
        )
        items = [DeliveryView.model_validate(row) for row in rows[:limit]]
        return DeliveryPage(
            items=items, limit=limit, offset=offset, next_offset=offset + limit if len(rows) > limit else None
        )

    @router.get("/deliveries/{delivery_id}", responses={404: {"description": "No such message"}})
    async def get_delivery(delivery_id: uuid.UUID) -> DeliveryView:
        """One outbound message by its id (the command's or event's message_id)."""
        row = await delivery_log.get(delivery_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such delivery")
        return DeliveryView.model_validate(row)

    return router
