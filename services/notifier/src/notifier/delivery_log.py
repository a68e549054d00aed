"""The delivery log in PostgreSQL: the send's idempotency record and its history in one row.

A send is *begun* by moving its row to ``sending`` in one conditional statement (only from
``queued`` or ``failed_temporary``, or a new row), so a redelivered command, a duplicate from a
retry queue or another replica finds the row taken and does not call the provider again.

A row left ``unknown`` (a send interrupted between the provider call and recording its answer) is
claimed again only by a claim that allows it (``resend_unknown_after_s``: the provider echoes our id
on its receipts) and only once it has stayed ``unknown`` that long: a receipt would have moved it.

A connection cut after the statement committed hides whether the claim was made. ``Claim`` carries
a random id written into the row with the claim, so a repeated ``begin`` recognises its own claim
instead of taking the row for someone else's interrupted send.

The hot path (begin, sent, failed, unknown) is one autocommitted statement per step, each built
once and run straight on asyncpg (``database.driver``): no BEGIN/COMMIT round trips, no ORM unit
of work (the notifier once spent most of its CPU there), no SQLAlchemy execute path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from database.driver import Driver, DriverStatement
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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
    id: uuid.UUID = field(default_factory=uuid.uuid4)  # written with the claim: "this one is mine"
    tried: bool = False  # a statement went out on a connection: it may have committed
    # Claim an 'unknown' row once it has been so this long without a receipt (None: never).
    resend_unknown_after_s: float | None = None


@dataclass(frozen=True)
class Begun:
    """The send may go ahead; this is attempt number ``attempt``."""

    attempt: int


@dataclass(frozen=True)
class Taken:
    """Not to be sent now: the row is already in ``state`` (since ``for_s`` seconds)."""

    state: DeliveryState
    for_s: float = field(default=0.0, compare=False)


# The states the statements below compare with, passed as parameters with every call.
_STATES = {
    "sending": DeliveryState.SENDING.value,
    "sent": DeliveryState.SENT.value,
    "unknown": DeliveryState.UNKNOWN.value,
    "sendable": [state.value for state in SENDABLE],
    # A receipt that raced ahead of 'sent' keeps its later state.
    "sent_from": [state.value for state in (DeliveryState.SENDING, DeliveryState.UNKNOWN,
                                            DeliveryState.FAILED_TEMPORARY)],
}  # fmt: skip

# A new row is claimed as it is inserted; an existing one when it is sendable, or already claimed
# by this very claim (a retry after a lost answer: the attempt is not counted twice). Otherwise
# the row as it was is returned. Each branch sees the table as of the statement's start.
_BEGIN = text("""
WITH new AS (
    INSERT INTO deliveries (id, channel, provider, business_id, conversation_key, recipient, kind,
                            status, attempts, claim_id, created_at, updated_at)
    VALUES (:id, :channel, :provider, :business_id, :conversation_key, :recipient, :kind,
            :sending, 1, :claim_id, now(), now())
    ON CONFLICT (id) DO NOTHING
    RETURNING attempts
), again AS (
    UPDATE deliveries
    SET status = :sending, claim_id = :claim_id, updated_at = now(),
        attempts = attempts + (status <> :sending)::int
    WHERE id = :id AND NOT EXISTS (SELECT FROM new)
      AND (status = ANY(:sendable) OR (status = :sending AND claim_id = :claim_id)
           -- NULL (never) makes the interval NULL and the comparison false
           OR (status = :unknown AND updated_at <= now() - make_interval(secs => :resend_unknown_after_s)))
    RETURNING attempts
)
SELECT attempts, NULL AS status, 0.0 AS for_s FROM new
UNION ALL SELECT attempts, NULL, 0.0 FROM again
UNION ALL SELECT attempts, status, extract(epoch FROM now() - updated_at)::double precision FROM deliveries
    WHERE id = :id AND NOT EXISTS (SELECT FROM new) AND NOT EXISTS (SELECT FROM again)
""")
# Two begins of one new id at once: the loser's snapshot saw no row at all; it reads it afresh.
_STATE = text("SELECT status FROM deliveries WHERE id = :id")
_SENT = text("""
UPDATE deliveries
SET provider_message_id = :provider_message_id, sent_at = coalesce(sent_at, now()),
    updated_at = now(), last_error = NULL, kind = coalesce(:kind, kind),
    status = CASE WHEN status = ANY(:sent_from) THEN :sent ELSE status END
WHERE id = :id
""")
_FAILED = text(
    "UPDATE deliveries SET status = :status, last_error = :error, updated_at = now() WHERE id = :id"
)
_UNKNOWN = text("""
UPDATE deliveries
SET status = :unknown, updated_at = now(),
    last_error = 'interrupted during the provider call (it may have gone out)'
WHERE id = :id AND status = :sending
RETURNING id
""")


class DeliveryLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        engine = sessions.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        self._driver = Driver(engine)  # the hot path: straight on asyncpg (database.driver)
        self._begin = DriverStatement(_BEGIN, engine)
        self._state = DriverStatement(_STATE, engine)
        self._sent = DriverStatement(_SENT, engine)
        self._failed = DriverStatement(_FAILED, engine)
        self._unknown = DriverStatement(_UNKNOWN, engine)

    async def begin(self, claim: Claim) -> Begun | Taken:
        """Record the attempt *before* calling the provider (see the module docstring)."""
        outbound = claim.outbound
        params = {
            "id": outbound.id,
            "channel": outbound.channel,
            "provider": outbound.provider,
            "business_id": outbound.business_id,
            "conversation_key": outbound.conversation_key,
            "recipient": outbound.recipient,
            "kind": outbound.kind,
            "claim_id": claim.id,
            "resend_unknown_after_s": claim.resend_unknown_after_s,
        } | _STATES
        async with self._driver.connect() as conn:
            claim.tried = True  # a connection is checked out: the statement may commit
            row = await conn.fetchrow(self._begin, params)
            if row is None:
                current = await conn.fetchrow(self._state, {"id": outbound.id})
                return Taken(DeliveryState(str(current["status"] if current else None)))
        attempts, state, for_s = row
        return Begun(attempts) if state is None else Taken(DeliveryState(str(state)), float(for_s))

    async def sent(self, id: uuid.UUID, provider_message_id: str, kind: str | None = None) -> None:
        """The provider accepted it. A receipt that raced ahead keeps its later state."""
        await self._driver.fetchrow(
            self._sent, {"id": id, "provider_message_id": provider_message_id, "kind": kind} | _STATES
        )

    async def failed(self, id: uuid.UUID, state: DeliveryState, error: str) -> None:
        await self._driver.fetchrow(
            self._failed, {"id": id, "status": state.value, "error": error[:_ERROR_MAX]}
        )

    async def mark_unknown(self, id: uuid.UUID) -> bool:
        """A row left ``sending`` by a crash: maybe sent. True if this call changed it."""
        return await self._driver.fetchrow(self._unknown, {"id": id} | _STATES) is not None

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
