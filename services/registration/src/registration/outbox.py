"""Transactional outbox: events are rows written in the transaction of the change they report, and
a relay publishes them afterwards. So an event is never lost (the row survives any crash) and never
sent for a change that rolled back (the row rolled back with it).

Delivery is at least once, in order except around a failed publish (retried on the next round).
The relay locks a batch ``FOR UPDATE SKIP LOCKED`` (replicas never publish one row concurrently),
marks it published, publishes each row with a publisher confirm (persistent, mandatory) and
commits (a row the broker did not confirm is unmarked first). Should the database go away between
the confirm and that commit, the relay remembers what it published and records it first when the
database is back, before it looks for more: an outage alone never publishes a row twice. A
*crash* after the confirm but before that commit (the COMMIT's round trip) publishes the row again
after restart, with the same ``message_id``: no order of publishing and committing closes that
window (the broker and the database do not commit together), so subscribers dedupe on it (as they
must anyway: a replica may pick up the rows a dead connection unlocked, and a redelivery repeats a
message too). So does a confirm slower than ``OUTBOX_PUBLISH_TIMEOUT_S`` (the row is retried next
round): the wait is long (60 s) because a busy broker can take seconds and the relay is off the
request path.
Rows are kept after publication (the admin funnel counts them; erasure scrubs their personal data).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.contracts import Contract
from common.logging import get_logger
from common.messaging import ConfirmedPublisher
from registration.models import OutboxMessage

log = get_logger(__name__)


def outbox_row(event: Contract) -> dict[str, Any]:
    """The outbox columns of ``event``."""
    payload = event.model_dump(mode="json")
    return {"id": event.message_id, "routing_key": event.ROUTING_KEY, "payload": payload}


def stage(db: AsyncSession, event: Contract) -> None:
    """Write ``event`` in ``db``'s transaction; it is published once that transaction commits."""
    db.add(OutboxMessage(**outbox_row(event)))


class OutboxRelay:
    """Publishes committed outbox rows, oldest first; woken after each commit, else polls."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: ConfirmedPublisher,
        contracts: Mapping[str, type[Contract]],
        *,
        batch_size: int = 100,
        poll_interval_s: float = 1.0,
        hold_s: float = 0.0,
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._contracts = contracts
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._hold_s = hold_s  # test only (``OUTBOX_RELAY_HOLD_S``): a window to kill the process in
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unrecorded: set[uuid.UUID] = set()  # confirmed by the broker, not yet marked so

    def wake(self) -> None:
        """A transaction with events just committed (in this process): publish without waiting."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop between batches; rows not yet published wait for the next start (or a replica)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def publish_pending(self) -> int:
        """Publish one batch; the number of rows published."""
        if self._unrecorded:  # published before the database went away: recorded before anything else
            async with self._sessions() as db, db.begin():
                await self._mark_published(db, self._unrecorded)
            log.info("outbox.recorded_after_outage", rows=len(self._unrecorded))
            self._unrecorded.clear()
        published: list[uuid.UUID] = []
        try:
            async with self._sessions() as db, db.begin():
                rows = (
                    await db.execute(
                        select(OutboxMessage.id, OutboxMessage.routing_key, OutboxMessage.payload)
                        .where(OutboxMessage.published_at.is_(None))
                        .order_by(OutboxMessage.created_at)
                        .limit(self._batch_size)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                if not rows:
                    return 0
                # Marked before publishing, in the transaction that holds the rows' locks: once the
                # broker has confirmed, only the COMMIT is left — the window in which a crash makes
                # the relay publish a row again after restart.
                await self._mark_published(db, [row.id for row in rows])
                # Sent back to back on one channel (RabbitMQ keeps their order), confirms awaited
                # together: one round trip per batch instead of one per event.
                events = [self._contracts[k].model_validate(body) for _, k, body in rows]
                outcomes = await asyncio.gather(
                    *(self._publisher.publish(event) for event in events), return_exceptions=True
                )
                failed = []
                for row, outcome in zip(rows, outcomes, strict=True):
                    if outcome is None:
                        published.append(row.id)
                    else:  # retried next round, possibly after later ones
                        failed.append(row.id)
                        log.error("outbox.publish_failed", message_id=str(row.id), error=repr(outcome))
                if failed:
                    await db.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(failed))
                        .values(published_at=None, attempts=OutboxMessage.attempts + 1)
                    )
        except Exception:
            self._unrecorded.update(published)  # the commit may have failed: record them again
            raise
        return len(published)

    @staticmethod
    async def _mark_published(db: AsyncSession, ids: Collection[uuid.UUID]) -> None:
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.published_at.is_(None))
            .values(published_at=datetime.now(UTC))
        )

    async def _run(self) -> None:
        await asyncio.sleep(self._hold_s)
        while True:
            try:
                published = await self.publish_pending()
            except Exception:  # the database is away: try again at the next poll
                log.exception("outbox.relay_failed")
                published = 0
            if published == self._batch_size:
                continue  # more are waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
            self._wake.clear()
