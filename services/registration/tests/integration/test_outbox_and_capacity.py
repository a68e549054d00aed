"""Events through the outbox, capacity and the waitlist, contact updates and erasure, against the
real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid

import aio_pika
import pytest
from database.engine import create_engine, create_sessionmaker
from sqlalchemy import select

from common.contracts import (
    CancelOutcome,
    CancelRegistration,
    Contract,
    RegistrationStatus,
    SubmitOutcome,
    SubmitRegistration,
    SubmitReply,
    UpdateContact,
    UpdateOutcome,
)
from common.messaging import EXCHANGE
from devkit.infra import free_port
from devkit.processes import Supervisor, service_spec
from devkit.tcp_proxy import TcpProxy
from registration.app import EVENTS
from registration.capacity import Capacity
from registration.config import RegistrationSettings
from registration.models import OutboxMessage, Participant
from registration.outbox import OutboxRelay
from registration.service import Registrations

from .conftest import a_submit

pytestmark = pytest.mark.integration


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url, pool_size=20)
    yield create_sessionmaker(engine)
    await engine.dispose()


def registrations_with(sessions, capacity: Capacity | None = None) -> Registrations:
    return Registrations(sessions, RegistrationSettings().cpf_vault(), "AGR", capacity)


def new_event() -> str:
    return f"evt-{uuid.uuid4().hex[:8]}"


async def outbox_of(sessions, event_id: str) -> list[OutboxMessage]:
    async with sessions() as db:
        rows = await db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.payload["event_id"].astext == event_id)
            .order_by(OutboxMessage.created_at, OutboxMessage.routing_key)
        )
        return list(rows.all())


async def participants_of(sessions, event_id: str) -> list[Participant]:
    async with sessions() as db:
        rows = await db.scalars(
            select(Participant).where(Participant.event_id == event_id).order_by(Participant.created_at)
        )
        return list(rows.all())


async def test_a_submit_writes_its_event_in_the_same_transaction_and_a_conflict_writes_none(sessions):
    event = new_event()
    registrations = registrations_with(sessions)
    created = await registrations.submit(a_submit(event, 1))
    conflict = await registrations.submit(
        a_submit(event, 1).model_copy(update={"message_id": uuid.uuid4(), "conversation_key": "x"})
    )
    assert conflict.outcome is SubmitOutcome.CPF_TAKEN
    [row] = await outbox_of(sessions, event)
    assert row.routing_key == "registration.completed" and row.published_at is None
    assert row.payload["code"] == created.code and row.payload["cpf_masked"].startswith("***.")
    assert a_submit(event, 1).cpf not in str(row.payload)  # never the full CPF
    assert row.payload["reply_to"] == {"kind": "wa_id", "id": "5564999000001"}


async def test_a_database_gone_between_the_confirm_and_the_commit_does_not_publish_twice(
    sessions, database_url
):
    """The relay's batch is confirmed by the broker, then the database goes away before the commit
    that marks it published. Back, the relay records what it published before anything else."""
    event = new_event()
    await registrations_with(sessions).submit(a_submit(event, 1))
    published: list[uuid.UUID] = []
    async with TcpProxy("127.0.0.1", 5432) as proxy:

        class CutAfterConfirm:  # the broker's side: each publish confirmed, then the database cut
            async def publish(self, contract: Contract) -> None:
                published.append(contract.message_id)
                await proxy.down()

        engine = create_engine(proxy.url(database_url))
        relay = OutboxRelay(create_sessionmaker(engine), CutAfterConfirm(), EVENTS)  # type: ignore[arg-type]
        try:
            with pytest.raises(Exception):  # noqa: B017, PT011 (the driver's connection error)
                await relay.publish_pending()
            [row] = await outbox_of(sessions, event)
            assert row.id in published and row.published_at is None
            await proxy.up()
            while await relay.publish_pending():  # records first, then whatever else is pending
                pass
        finally:
            await engine.dispose()
    [row] = await outbox_of(sessions, event)
    assert row.published_at is not None
    assert published.count(row.id) == 1


async def test_a_publish_the_broker_did_not_confirm_stays_unpublished_and_goes_next_round(sessions):
    event = new_event()
    await registrations_with(sessions).submit(a_submit(event, 1))
    [row] = await outbox_of(sessions, event)
    published: list[uuid.UUID] = []

    class NackOnce:  # the broker refuses this row once (nack, unroutable, timeout…)
        async def publish(self, contract: Contract) -> None:
            if contract.message_id == row.id and row.id not in refused:
                refused.append(row.id)
                raise RuntimeError("nacked")
            published.append(contract.message_id)

    refused: list[uuid.UUID] = []
    relay = OutboxRelay(sessions, NackOnce(), EVENTS)  # type: ignore[arg-type]
    await relay.publish_pending()
    [row_after] = await outbox_of(sessions, event)
    assert refused == [row.id] and row.id not in published
    assert row_after.published_at is None and row_after.attempts == 1  # marked, then unmarked
    while await relay.publish_pending():
        pass
    [row_after] = await outbox_of(sessions, event)
    assert row_after.published_at is not None and published.count(row.id) == 1


async def test_capacity_under_concurrency_confirms_exactly_k_and_waitlists_the_rest_in_order(sessions):
    event = new_event()
    registrations = registrations_with(sessions, Capacity(total=10))
    replies = await asyncio.gather(*(registrations.submit(a_submit(event, n)) for n in range(40)))
    statuses = [r.status for r in replies]
    assert statuses.count(RegistrationStatus.CONFIRMED) == 10
    assert statuses.count(RegistrationStatus.WAITLISTED) == 30
    rows = await participants_of(sessions, event)
    waiting = sorted((p for p in rows if p.status == "waitlisted"), key=lambda p: p.waitlist_position)
    assert len({p.waitlist_position for p in waiting}) == 30

    confirmed = next(p for p in rows if p.status == "confirmed")
    cancel = CancelRegistration(
        event_id=event, conversation_key=confirmed.conversation_key, code=confirmed.code
    )
    assert (await registrations.cancel(cancel)).outcome is CancelOutcome.CANCELLED
    first = waiting[0]
    after = {p.code: p for p in await participants_of(sessions, event)}
    assert after[first.code].status == "confirmed" and after[first.code].promoted_at is not None
    assert all(after[p.code].status == "waitlisted" for p in waiting[1:])
    keys = [(r.routing_key, r.payload["code"]) for r in await outbox_of(sessions, event)]
    assert ("registration.cancelled", confirmed.code) in keys
    assert ("registration.promoted", first.code) in keys
    assert sum(1 for k, _ in keys if k == "registration.completed") == 40


async def test_a_full_profile_waitlists_only_that_profile(sessions):
    event = new_event()
    registrations = registrations_with(sessions, Capacity(per_profile={"estudante": 2}))
    replies = [await registrations.submit(a_submit(event, n, "estudante")) for n in range(3)]
    other = await registrations.submit(a_submit(event, 9, "produtor"))
    assert [r.status for r in replies] == ["confirmed", "confirmed", "waitlisted"]
    assert other.status is RegistrationStatus.CONFIRMED


async def test_update_contact_changes_email_and_emits_updated(sessions):
    event = new_event()
    registrations = registrations_with(sessions)
    command = a_submit(event, 1)
    code = (await registrations.submit(command)).code
    taken = (await registrations.submit(a_submit(event, 2))).code
    assert taken
    theirs = next(p for p in await participants_of(sessions, event) if p.code == taken).email

    def update(**fields):
        return UpdateContact(event_id=event, conversation_key=command.conversation_key, code=code, **fields)

    changed = await registrations.update_contact(update(email="NOVO@example.com", phone="+5511988887777"))
    assert changed.outcome is UpdateOutcome.UPDATED and changed.changed == ["email", "phone"]
    assert (
        await registrations.update_contact(update(email="novo@example.com"))
    ).outcome is UpdateOutcome.UNCHANGED
    assert (await registrations.update_contact(update(email=theirs))).outcome is UpdateOutcome.EMAIL_TAKEN
    stranger = UpdateContact(event_id=event, conversation_key="other", code=code, email="a@b.co")
    assert (await registrations.update_contact(stranger)).outcome is UpdateOutcome.NOT_FOUND
    updated = [r for r in await outbox_of(sessions, event) if r.routing_key == "registration.updated"]
    assert len(updated) == 1 and updated[0].payload["email"] == "novo@example.com"


async def test_erasure_anonymises_keeps_the_aggregate_promotes_and_scrubs_published_events(sessions):
    event = new_event()
    registrations = registrations_with(sessions, Capacity(total=1))
    first = await registrations.submit(a_submit(event, 1))
    second = await registrations.submit(a_submit(event, 2))
    assert second.status is RegistrationStatus.WAITLISTED
    async with sessions() as db, db.begin():  # as if the relay had published everything so far
        for row in await db.scalars(select(OutboxMessage).where(OutboxMessage.published_at.is_(None))):
            row.published_at = row.created_at

    erased = await registrations.erase(first.code)
    assert erased is not None and await registrations.erase(first.code) is None
    rows = {p.code: p for p in await participants_of(sessions, event)}
    gone = rows[first.code]
    assert (gone.status, gone.full_name, gone.phone_e164, gone.cpf_ciphertext) == (
        "erased",
        "[apagado]",
        None,
        b"",
    )
    assert (gone.profile, gone.uf) == ("produtor", "GO")  # the aggregate stays
    assert rows[second.code].status == "confirmed"
    emitted = await outbox_of(sessions, event)
    completed = next(
        r for r in emitted if r.payload["code"] == first.code and r.routing_key == "registration.completed"
    )
    assert "full_name" not in completed.payload and "email" not in completed.payload
    erased_event = next(r for r in emitted if r.routing_key == "registration.erased")
    assert erased_event.payload["conversation_key"] is None
    assert {r.routing_key for r in emitted} >= {"registration.erased", "registration.promoted"}


async def test_sigkill_between_commit_and_publish_publishes_the_event_once_after_restart(
    amqp_url, database_url, sessions
):
    """The service runs as a process. It commits a submit (its reply says so, the row is in the
    outbox unpublished) and is SIGKILLed before its relay publishes (the test-only
    ``OUTBOX_RELAY_HOLD_S`` keeps the relay from starting). Restarted, it publishes the event, and a
    queue bound to ``congress`` receives it exactly once: raw deliveries counted, no dedupe."""
    env = {"AMQP_URL": amqp_url, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    command = a_submit(new_event(), 7)
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE.name, type="topic", durable=True)
        events = await channel.declare_queue(exclusive=True)
        await events.bind(exchange, routing_key="registration.completed")
        deliveries: list[aio_pika.abc.AbstractIncomingMessage] = []

        async def on_event(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            if _code(message) == code:  # every delivery of it, duplicates included
                deliveries.append(message)

        replies = await channel.declare_queue(exclusive=True)
        answer: asyncio.Future[SubmitReply] = asyncio.get_running_loop().create_future()

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            answer.set_result(SubmitReply.model_validate_json(message.body))

        await replies.consume(on_reply)
        first = Supervisor(stop_timeout=20)
        await first.start([service_spec("registration", free_port(), env | {"OUTBOX_RELAY_HOLD_S": "600"})])
        try:
            await first.wait_ready(timeout=60)
            await exchange.publish(
                aio_pika.Message(
                    command.model_dump_json().encode(), content_type="application/json",
                    message_id=str(command.message_id), reply_to=replies.name,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=command.message_type(),
                ),
                routing_key=SubmitRegistration.ROUTING_KEY,
            )  # fmt: skip
            reply = await asyncio.wait_for(answer, timeout=30)
            code = reply.code
            assert reply.outcome is SubmitOutcome.CREATED
            [row] = await outbox_of(sessions, command.event_id)
            assert row.published_at is None  # committed, not published
            assert await first.terminate("registration", signal.SIGKILL) == -signal.SIGKILL
        finally:
            await first.stop()
        await events.consume(on_event)
        await asyncio.sleep(1)
        assert deliveries == []  # nothing went out before the kill

        second = Supervisor(stop_timeout=20)
        await second.start([service_spec("registration", free_port(), env)])
        try:
            await second.wait_ready(timeout=60)
            for _ in range(200):
                if deliveries:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(3)  # a duplicate would arrive within this
        finally:
            await second.stop()
        await asyncio.sleep(1)
    assert len(deliveries) == 1
    assert deliveries[0].type == "registration.completed.v1" and deliveries[0].message_id == str(row.id)
    [row] = await outbox_of(sessions, command.event_id)
    assert row.published_at is not None


def _code(message: aio_pika.abc.AbstractIncomingMessage) -> str | None:
    return json.loads(message.body).get("code")
