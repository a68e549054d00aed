"""The delivery log in PostgreSQL: the send's idempotency record and its history in one row.

A send is *begun* by moving its row to ``sending`` with one conditional UPDATE (only from
``queued`` or ``failed_temporary``), so a redelivered command, a duplicate from a retry queue or
another replica finds the row taken and does not call the provider again.

A connection cut right after ``COMMIT`` hides whether the claim was made. ``Claim`` remembers the
transaction that made it (PostgreSQL's ``xmin`` of the row it wrote), so a repeated ``begin``
recognises its own claim instead of taking the row for someone else's interrupted send.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnClause, String, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.contracts import DeliveryStatus
from notifier.models import Delivery
from notifier.statuses import SENDABLE, DeliveryState, after_receipt

_ERROR_MAX = 2000


@dataclass(frozen=True)
class Outbound:
    """What is about to be sent (the row's fixed columns)."""

    id: uuid.UUID
    channel: str
    provider: str
    recipient: str
    kind: str
    business_id: str | None = None
    conversation_key: str | None = None


@dataclass
class Claim:
    """One consumer's attempt to begin a send, kept across tries of ``DeliveryLog.begin``."""

    outbound: Outbound
    xid: str | None = None  # the transaction that moved the row to ``sending``, once it answered


_XMIN: ColumnClause[str] = literal_column(
    "xmin::text", String()
)  # the id of the transaction that wrote the row version


@dataclass(frozen=True)
class Begun:
    """The send may go ahead; this is attempt number ``attempt``."""

    attempt: int


@dataclass(frozen=True)
class Taken:
    """Not to be sent now: the row is already in ``state``."""

    state: DeliveryState


class DeliveryLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def begin(self, claim: Claim) -> Begun | Taken:
        """Record the attempt *before* calling the provider (see the module docstring)."""
        outbound = claim.outbound
        async with self._sessions.begin() as session:
            await session.execute(
                insert(Delivery)
                .values(
                    id=outbound.id,
                    channel=outbound.channel,
                    provider=outbound.provider,
                    business_id=outbound.business_id,
                    conversation_key=outbound.conversation_key,
                    recipient=outbound.recipient,
                    kind=outbound.kind,
                    status=DeliveryState.QUEUED,
                    attempts=0,
                )
                .on_conflict_do_nothing(index_elements=[Delivery.id])
            )
            claimed = (
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id == outbound.id, Delivery.status.in_(SENDABLE))
                    .values(
                        status=DeliveryState.SENDING, attempts=Delivery.attempts + 1, updated_at=func.now()
                    )
                    .returning(Delivery.attempts, _XMIN)
                )
            ).first()
            if claimed is not None:
                claim.xid = claimed[1]  # before COMMIT: if its answer is lost, the next try knows
                return Begun(claimed[0])
            state, attempts, xid = (
                await session.execute(
                    select(Delivery.status, Delivery.attempts, _XMIN).where(Delivery.id == outbound.id)
                )
            ).one()
            if state == DeliveryState.SENDING and claim.xid is not None and xid == claim.xid:
                return Begun(attempts)  # our own claim, committed, its answer cut off
            return Taken(DeliveryState(str(state)))

    async def sent(self, id: uuid.UUID, provider_message_id: str, kind: str | None = None) -> None:
        """The provider accepted it. A receipt that raced ahead keeps its later state."""
        values: dict[str, object] = {
            "provider_message_id": provider_message_id,
            "sent_at": func.coalesce(Delivery.sent_at, func.now()),
            "updated_at": func.now(),
            "last_error": None,
        }
        if kind is not None:
            values["kind"] = kind
        async with self._sessions.begin() as session:
            await session.execute(update(Delivery).where(Delivery.id == id).values(**values))
            await session.execute(
                update(Delivery)
                .where(
                    Delivery.id == id,
                    Delivery.status.in_(
                        (DeliveryState.SENDING, DeliveryState.UNKNOWN, DeliveryState.FAILED_TEMPORARY)
                    ),
                )
                .values(status=DeliveryState.SENT)
            )

    async def failed(self, id: uuid.UUID, state: DeliveryState, error: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id == id)
                .values(status=state, last_error=error[:_ERROR_MAX], updated_at=func.now())
            )

    async def mark_unknown(self, id: uuid.UUID) -> bool:
        """A row left ``sending`` by a crash: maybe sent. True if this call changed it."""
        async with self._sessions.begin() as session:
            changed = await session.scalar(
                update(Delivery)
                .where(Delivery.id == id, Delivery.status == DeliveryState.SENDING)
                .values(
                    status=DeliveryState.UNKNOWN,
                    last_error="interrupted during the provider call; not resent (it may have gone out)",
                    updated_at=func.now(),
                )
                .returning(Delivery.id)
            )
            return changed is not None

    async def apply_receipt(
        self,
        *,
        tracker: uuid.UUID | None,
        provider_message_id: str,
        receipt: DeliveryStatus,
        at: datetime,
        error: str | None = None,
    ) -> DeliveryState | None:
        """Move the row the receipt is about (by our id, else the provider's); None if unknown."""
        by = (
            Delivery.id == tracker
            if tracker is not None
            else Delivery.provider_message_id == provider_message_id
        )
        async with self._sessions.begin() as session:
            row = await session.scalar(select(Delivery).where(by).with_for_update())
            if row is None:
                return None
            state = after_receipt(DeliveryState(row.status), receipt)
            row.provider_message_id = row.provider_message_id or provider_message_id
            if state is not DeliveryState(row.status):
                row.status = state
                row.updated_at = at
            if state is DeliveryState.SENT or receipt is DeliveryStatus.SENT:
                row.sent_at = row.sent_at or at
            if receipt is DeliveryStatus.DELIVERED:
                row.delivered_at = row.delivered_at or at
            if receipt in (DeliveryStatus.READ, DeliveryStatus.PLAYED):
                row.read_at = row.read_at or at
                row.delivered_at = row.delivered_at or at
            if error is not None and state is DeliveryState.FAILED_PERMANENT:
                row.last_error = error[:_ERROR_MAX]
            return state

    async def get(self, id: uuid.UUID) -> Delivery | None:
        async with self._sessions() as session:
            return await session.get(Delivery, id)

    async def search(
        self,
        *,
        conversation_key: str | None = None,
        status: DeliveryState | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Delivery]:
        query = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id).limit(limit).offset(offset)
        if conversation_key is not None:
            query = query.where(Delivery.conversation_key == conversation_key)
        if status is not None:
            query = query.where(Delivery.status == status)
        async with self._sessions() as session:
            return list(await session.scalars(query))
