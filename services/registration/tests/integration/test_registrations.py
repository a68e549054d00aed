"""Registration rules against the real PostgreSQL, and the request/reply over the real broker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from asgi_lifespan import LifespanManager
from database.engine import create_engine, create_sessionmaker
from faststream.rabbit import RabbitBroker
from sqlalchemy import func, select

from common.contracts import (
    CancelOutcome,
    CancelRegistration,
    CheckIdentity,
    FindRegistration,
    IdentityCheckReply,
    Provider,
    RegistrationStatus,
    RegistrationView,
    SubmitOutcome,
    SubmitRegistration,
    SubmitReply,
)
from common.messaging import EXCHANGE, REGISTRATION_CHECKS, REGISTRATION_FINDS, REGISTRATION_SUBMITS
from registration.app import create_app
from registration.config import RegistrationSettings
from registration.models import Participant
from registration.service import Registrations

pytestmark = pytest.mark.integration

EVENT = "evt-test"


def submit(
    cpf: str = "12345678909", email: str = "maria@example.com", key: str = "meta:b:1"
) -> SubmitRegistration:
    return SubmitRegistration(
        event_id=EVENT,
        provider=Provider.META,
        conversation_key=key,
        full_name="Maria da Silva",
        email=email,
        cpf=cpf,
        phone="+5564999990000",
        city="Rio Verde",
        city_ibge_code=5218805,
        uf="GO",
        profile="produtor",
        consent_version="2027-01",
        consented_at=datetime(2027, 1, 10, tzinfo=UTC),
    )


@pytest.fixture
async def registrations(database_url):
    engine = create_engine(database_url, pool_size=20)
    sessions = create_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(Participant.__table__.delete())
    yield Registrations(sessions, RegistrationSettings().cpf_vault(), "AGR")
    await engine.dispose()


async def test_a_dead_pooled_connection_is_replaced_without_failing_the_use_case(database_url):
    """The pool does not ping at checkout; a connection PostgreSQL closed (a restart) is retried."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pre_ping=False)
    registrations = Registrations(create_sessionmaker(engine), RegistrationSettings().cpf_vault(), "AGR")
    admin = create_engine(database_url, pool_size=1)
    try:
        first = await registrations.submit(submit(cpf="52998224725", email="dead@example.com", key="k:dead"))
        async with engine.connect() as conn:  # the one pooled connection
            pid = await conn.scalar(select(func.pg_backend_pid()))
        async with admin.connect() as conn:  # what a restart does to it
            assert await conn.scalar(select(func.pg_terminate_backend(pid)))
        second = await registrations.submit(submit(cpf="11144477735", email="dead2@example.com", key="k:d2"))
        found = await registrations.find(FindRegistration(event_id=EVENT, conversation_key="k:dead"))
    finally:
        await admin.dispose()
        await engine.dispose()
    assert first.outcome is second.outcome is SubmitOutcome.CREATED
    assert found.found and found.code == first.code


async def count(registrations, **where) -> int:
    async with registrations._sessions() as db:
        query = select(func.count()).select_from(Participant).filter_by(**where)
        return int(await db.scalar(query))


async def test_submit_registers_with_a_readable_code_and_an_encrypted_cpf(registrations):
    reply = await registrations.submit(submit())
    assert reply.outcome is SubmitOutcome.CREATED and reply.status is RegistrationStatus.CONFIRMED
    assert reply.code.startswith("AGR-") and len(reply.code) == 10
    async with registrations._sessions() as db:
        row = await db.scalar(select(Participant))
    assert b"12345678909" not in row.cpf_ciphertext and row.cpf_key_id == "k1"


async def test_the_same_submit_twice_is_one_registration_with_the_same_code(registrations):
    command = submit()
    first, second = await registrations.submit(command), await registrations.submit(command)
    assert second.outcome is SubmitOutcome.ALREADY_REGISTERED and second.code == first.code
    assert await count(registrations) == 1


async def test_100_concurrent_submits_of_one_cpf_make_exactly_one_participant(registrations):
    commands = [submit(email=f"p{i}@example.com", key=f"meta:b:{i}") for i in range(100)]
    replies = await asyncio.gather(*(registrations.submit(c) for c in commands))
    outcomes = [r.outcome for r in replies]
    assert outcomes.count(SubmitOutcome.CREATED) == 1
    assert outcomes.count(SubmitOutcome.CPF_TAKEN) == 99
    assert await count(registrations) == 1


async def test_email_taken_by_someone_else(registrations):
    await registrations.submit(submit())
    reply = await registrations.submit(submit(cpf="52998224725", key="meta:b:2"))
    assert reply.outcome is SubmitOutcome.EMAIL_TAKEN and reply.code is None


async def test_identity_check_tells_taken_and_whose(registrations):
    await registrations.submit(submit())
    mine = await registrations.check_identity(
        CheckIdentity(event_id=EVENT, conversation_key="meta:b:1", cpf="12345678909")
    )
    theirs = await registrations.check_identity(
        CheckIdentity(event_id=EVENT, conversation_key="meta:b:2", email="MARIA@example.com")
    )
    free = await registrations.check_identity(
        CheckIdentity(event_id=EVENT, conversation_key="meta:b:2", cpf="52998224725")
    )
    assert (mine.taken, mine.same_conversation) == (True, True)
    assert (theirs.taken, theirs.same_conversation) == (True, False)
    assert not free.taken


async def test_find_shows_a_masked_cpf_and_cancel_frees_the_cpf(registrations):
    code = (await registrations.submit(submit())).code
    view = await registrations.find(FindRegistration(event_id=EVENT, conversation_key="meta:b:1"))
    assert view.found and view.code == code and view.cpf_masked == "***.456.789-**"
    assert (
        await registrations.cancel(CancelRegistration(event_id=EVENT, conversation_key="meta:b:2", code=code))
    ).outcome is CancelOutcome.NOT_FOUND  # not yours
    assert (
        await registrations.cancel(CancelRegistration(event_id=EVENT, conversation_key="meta:b:1", code=code))
    ).outcome is CancelOutcome.CANCELLED
    assert (
        await registrations.cancel(CancelRegistration(event_id=EVENT, conversation_key="meta:b:1", code=code))
    ).outcome is CancelOutcome.ALREADY_CANCELLED
    again = await registrations.submit(submit(key="meta:b:3"))
    assert again.outcome is SubmitOutcome.CREATED and again.code != code


async def test_request_reply_over_the_broker_and_nothing_dead_lettered(amqp_url, database_url):
    app = create_app(RegistrationSettings(amqp_url=amqp_url, database_url=database_url))
    async with LifespanManager(app), RabbitBroker(amqp_url) as client:
        command = submit(cpf="11144477735", email=f"{uuid.uuid4().hex[:8]}@example.com", key="meta:b:rr")
        response = await client.request(
            command, exchange=EXCHANGE, routing_key=SubmitRegistration.ROUTING_KEY, timeout=10
        )
        submitted = SubmitReply.model_validate_json(response.body)
        assert submitted.outcome is SubmitOutcome.CREATED
        response = await client.request(
            CheckIdentity(event_id=EVENT, conversation_key="meta:b:other", cpf="11144477735"),
            exchange=EXCHANGE,
            routing_key=CheckIdentity.ROUTING_KEY,
            timeout=10,
        )
        assert IdentityCheckReply.model_validate_json(response.body).taken
        response = await client.request(
            FindRegistration(event_id=EVENT, conversation_key="meta:b:rr"),
            exchange=EXCHANGE,
            routing_key=FindRegistration.ROUTING_KEY,
            timeout=10,
        )
        assert RegistrationView.model_validate_json(response.body).code == submitted.code
        for queue in (REGISTRATION_SUBMITS, REGISTRATION_CHECKS, REGISTRATION_FINDS):
            dead = await client.declare_queue(queue.dead_letter_queue())
            assert dead.declaration_result.message_count == 0, queue.dead_letter_name
