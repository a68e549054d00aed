"""One send through a database cut at each step of the delivery log's protocol (begin, provider
call, sent), on the real PostgreSQL behind a TCP proxy: sent once, logged ``sent``, or deferred
untouched; a claim whose COMMIT answer was lost is recognised as its own; a send a crash
interrupted mid-call is settled by its receipt or, without one in time, sent again; and a pooled
connection PostgreSQL closed is replaced."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from database.engine import create_engine, create_sessionmaker
from database.outages import is_transient, patiently
from sqlalchemy import func, select

from common.contracts import DeliveryStatus
from devkit.tcp_proxy import TcpProxy
from notifier.delivery_log import Begun, Claim, DeliveryLog, Outbound, Taken
from notifier.outages import Patience
from notifier.retry_policy import RetryPolicy
from notifier.service import AwaitingReceipt, Deferred, Delivered, Skipped, attempt_once
from notifier.statuses import DeliveryState

pytestmark = pytest.mark.integration

POLICY = RetryPolicy((0.1, 0.1))


def outbound() -> Outbound:
    return Outbound(
        id=uuid.uuid4(), channel="whatsapp", provider="meta", recipient="5564999990000", kind="text"
    )


@pytest_asyncio.fixture
async def proxied(notifier_database_url: str) -> AsyncIterator[tuple[TcpProxy, DeliveryLog, DeliveryLog]]:
    """(proxy, the log through it, the log direct)."""
    async with TcpProxy("127.0.0.1", 5432) as proxy:
        through = create_engine(proxy.url(notifier_database_url))
        direct = create_engine(notifier_database_url)
        try:
            yield proxy, DeliveryLog(create_sessionmaker(through)), DeliveryLog(create_sessionmaker(direct))
        finally:
            await through.dispose()
            await direct.dispose()


async def test_a_cut_after_the_provider_answered_is_recorded_sent_once_the_database_is_back(proxied) -> None:
    proxy, log, direct = proxied
    calls = 0

    async def effect() -> tuple[str, str | None]:
        nonlocal calls
        calls += 1
        await proxy.down()  # the database goes away while the provider answers
        asyncio.get_running_loop().call_later(2.0, lambda: asyncio.ensure_future(proxy.up()))
        return "wamid.cut", None

    message = outbound()
    outcome = await attempt_once(message, effect, log_=log, policy=POLICY, patience=Patience(5, 30))
    assert outcome == Delivered("wamid.cut") and calls == 1
    row = await direct.get(message.id)
    assert row is not None and (row.status, row.provider_message_id, row.attempts) == ("sent", "wamid.cut", 1)


async def test_a_database_down_before_the_send_is_waited_for_then_sent_once(proxied) -> None:
    proxy, log, direct = proxied
    calls = 0

    async def effect() -> tuple[str, str | None]:
        nonlocal calls
        calls += 1
        return "wamid.late", None

    await proxy.down()
    asyncio.get_running_loop().call_later(1.5, lambda: asyncio.ensure_future(proxy.up()))
    message = outbound()
    outcome = await attempt_once(message, effect, log_=log, policy=POLICY, patience=Patience(10, 30))
    assert outcome == Delivered("wamid.late") and calls == 1
    row = await direct.get(message.id)
    assert row is not None and (row.status, row.attempts) == ("sent", 1)


async def test_past_the_wait_the_send_is_deferred_and_nothing_was_sent_or_counted(proxied) -> None:
    proxy, log, direct = proxied

    async def effect() -> tuple[str, str | None]:
        raise AssertionError("the provider must not be called without the log")

    await proxy.down()
    message = outbound()
    outcome = await attempt_once(message, effect, log_=log, policy=POLICY, patience=Patience(0.5, 30))
    assert isinstance(outcome, Deferred) and "unreachable" in outcome.reason
    await proxy.up()
    assert await direct.get(message.id) is None  # back from the tier, it begins as if new


async def test_a_claim_whose_commit_answer_was_lost_is_recognised_as_its_own(proxied) -> None:
    _, _, direct = proxied
    message = outbound()
    mine = Claim(message)
    assert await direct.begin(mine) == Begun(1)
    # The retry after a cut that hid the COMMIT's answer: the row says 'sending', by our claim.
    assert await direct.begin(mine) == Begun(1)
    # Anyone else (a redelivered copy, another replica) finds it taken and does not send.
    assert await direct.begin(Claim(message)) == Taken(DeliveryState.SENDING)


async def test_claims_racing_for_one_new_send_let_exactly_one_begin(proxied) -> None:
    _, _, direct = proxied
    message = outbound()
    outcomes = await asyncio.gather(*(direct.begin(Claim(message)) for _ in range(20)))
    assert outcomes.count(Begun(1)) == 1
    assert all(o == Taken(DeliveryState.SENDING) for o in outcomes if o != Begun(1))


async def test_a_failed_send_is_claimed_again_as_the_next_attempt(proxied) -> None:
    _, _, direct = proxied
    message = outbound()
    assert await direct.begin(Claim(message)) == Begun(1)
    await direct.failed(message.id, DeliveryState.FAILED_TEMPORARY, "boom")
    assert await direct.begin(Claim(message)) == Begun(2)
    await direct.sent(message.id, "wamid.2")
    row = await direct.get(message.id)
    assert row is not None and (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert await direct.begin(Claim(message)) == Taken(DeliveryState.SENT)


async def test_an_unknown_row_is_claimed_again_only_when_allowed_and_old_enough(proxied) -> None:
    _, _, direct = proxied
    message = outbound()
    assert await direct.begin(Claim(message)) == Begun(1)
    assert await direct.mark_unknown(message.id)  # a crash left it 'sending'; a redelivery found it
    never = await direct.begin(Claim(message))  # e-mail, other gateways: never claimed again
    assert never == Taken(DeliveryState.UNKNOWN) and 0 <= never.for_s < 5
    young = await direct.begin(Claim(message, resend_unknown_after_s=0.5))
    assert young == Taken(DeliveryState.UNKNOWN)  # a receipt may still come
    await asyncio.sleep(0.6 - young.for_s)
    assert await direct.begin(Claim(message, resend_unknown_after_s=0.5)) == Begun(2)
    assert await direct.begin(Claim(message, resend_unknown_after_s=0.5)) == Taken(DeliveryState.SENDING)


async def test_a_send_interrupted_mid_call_waits_for_a_receipt_then_is_resent_unless_one_came(
    proxied,
) -> None:
    _, _, direct = proxied
    calls: list[str] = []

    async def effect() -> tuple[str, str | None]:
        calls.append("called")
        return f"wamid.{len(calls)}", None

    async def attempt(message: Outbound) -> object:
        return await attempt_once(
            message, effect, log_=direct, policy=POLICY, patience=Patience(5, 30), resend_unknown_after_s=0.5
        )

    receipted, silent = outbound(), outbound()
    for message in (receipted, silent):  # each was claimed, then the process died mid-call
        assert await direct.begin(Claim(message)) == Begun(1)
        assert await attempt(message) == AwaitingReceipt(0.5)  # the redelivery marks it 'unknown'
    # Meta's receipt of the one that did go out moves it on; the other one never got there.
    await direct.apply_receipt(
        tracker=receipted.id, provider_message_id="wamid.0", receipt=DeliveryStatus.SENT, at=datetime.now(UTC)
    )
    early = await attempt(silent)  # back from a tier too soon: waits on
    assert isinstance(early, AwaitingReceipt) and 0 < early.delay_s <= 0.5
    await asyncio.sleep(0.6)
    assert await attempt(receipted) == Skipped(DeliveryState.SENT) and calls == []
    assert await attempt(silent) == Delivered("wamid.1") and calls == ["called"]
    row = await direct.get(silent.id)
    assert row is not None and (row.status, row.attempts, row.last_error) == ("sent", 2, None)


async def test_a_dead_pooled_connection_fails_transiently_once_and_is_replaced(notifier_database_url) -> None:
    """As the service runs it (no ping at checkout): the hot path on asyncpg (``database.driver``)
    drops a connection PostgreSQL closed and says "outage", so ``patiently`` tries again on a new one."""
    engine = create_engine(notifier_database_url, pool_size=1, max_overflow=0, pre_ping=False)
    admin = create_engine(notifier_database_url, pool_size=1)
    log = DeliveryLog(create_sessionmaker(engine))
    try:
        first = outbound()
        assert await log.begin(Claim(first)) == Begun(1)
        async with engine.connect() as conn:  # the one pooled connection
            pid = await conn.scalar(select(func.pg_backend_pid()))
        async with admin.connect() as conn:  # what a restart does to it
            assert await conn.scalar(select(func.pg_terminate_backend(pid)))
        await asyncio.sleep(0.2)
        with pytest.raises(ConnectionResetError) as lost:
            await log.sent(first.id, "wamid.dead")
        assert is_transient(lost.value)
        await patiently(lambda: log.sent(first.id, "wamid.dead"), what="test", wait_s=5)
        second = outbound()
        assert await log.begin(Claim(second)) == Begun(1)
        assert (await log.get(first.id)).status == DeliveryState.SENT.value  # type: ignore[union-attr]
    finally:
        await engine.dispose()
        await admin.dispose()
