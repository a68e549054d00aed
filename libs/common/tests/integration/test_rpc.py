"""On the real RabbitMQ: requests over direct reply-to run concurrently, each gets its own answer,
a late answer is dropped, an unroutable request raises, and the client works again after the
connection was cut (through a proxy that resets it, as a broker restart does)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from aio_pika.exceptions import DeliveryError
from faststream.rabbit import RabbitBroker
from opentelemetry import trace

from common.consumers import QueueConsumer
from common.contracts import CheckIdentity, IdentityCheckReply
from common.messaging import EXCHANGE, REGISTRATION_CHECKS, declare_topology
from common.rpc import RpcClient
from devkit.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

TRACER = trace.get_tracer("test")


def check(n: int) -> CheckIdentity:
    return CheckIdentity(event_id="e", conversation_key=f"meta:1:{n}", email=f"p{n}@example.com")


def answering(
    broker: RabbitBroker, *, hold_until: float = 0, delay_s: float = 0.0
) -> tuple[QueueConsumer, list[str]]:
    """A registration stand-in: answers ``taken`` for odd numbers and ``same_conversation`` for multiples of 3; with ``hold_until`` it answers
    nothing until that many requests have arrived (only concurrent requests can get there)."""
    seen: list[str] = []
    everyone_here = asyncio.Event()

    async def on_check(request: CheckIdentity) -> IdentityCheckReply:
        seen.append(request.conversation_key)
        if len(seen) >= hold_until:
            everyone_here.set()
        await everyone_here.wait()
        await asyncio.sleep(delay_s)
        n = int(request.conversation_key.rsplit(":", 1)[1])
        return IdentityCheckReply(taken=bool(n % 2), same_conversation=n % 3 == 0)

    return QueueConsumer(broker, REGISTRATION_CHECKS, on_check, prefetch=50), seen


@asynccontextmanager
async def asking(
    make_broker: Callable[[str], RabbitBroker], server_url: str, client_url: str, **answer: float
) -> AsyncIterator[RpcClient]:
    """A running registration stand-in and an ``RpcClient`` on a broker connection of its own."""
    server, client = make_broker(server_url), make_broker(client_url)
    consumer, _ = answering(server, **answer)
    async with server, client:
        await declare_topology(server)
        await server.start()
        await consumer.start()
        await client.start()
        try:
            yield RpcClient(client, app_id="test", tracer=TRACER)
        finally:
            await consumer.stop()


async def test_requests_are_in_flight_together_and_each_gets_its_own_answer(
    vhost_url: str, make_broker: Callable[[str], RabbitBroker]
) -> None:
    async with asking(make_broker, vhost_url, vhost_url, hold_until=20) as rpc:
        bodies = await asyncio.gather(*(rpc.request(check(n), timeout=10) for n in range(20)))
        replies = [IdentityCheckReply.model_validate_json(body) for body in bodies]
        assert [r.taken for r in replies] == [bool(n % 2) for n in range(20)]
        assert [r.same_conversation for r in replies] == [n % 3 == 0 for n in range(20)]
        assert rpc.in_flight == 0


async def test_a_late_answer_times_out_and_is_dropped(
    vhost_url: str, make_broker: Callable[[str], RabbitBroker]
) -> None:
    async with asking(make_broker, vhost_url, vhost_url, delay_s=0.5) as rpc:
        with pytest.raises(TimeoutError):
            await rpc.request(check(1), timeout=0.2)
        await asyncio.sleep(0.5)  # its answer arrives now, for nobody
        assert rpc.in_flight == 0
        assert IdentityCheckReply.model_validate_json(await rpc.request(check(3), timeout=5)).taken


async def test_an_unroutable_request_raises(
    vhost_url: str, make_broker: Callable[[str], RabbitBroker]
) -> None:
    client = make_broker(vhost_url)
    async with client:
        await client.start()
        await client.declare_exchange(EXCHANGE)  # and no queue bound to registration.check_identity
        rpc = RpcClient(client, app_id="test", tracer=TRACER)
        with pytest.raises(DeliveryError):
            await rpc.request(check(1), timeout=5)


async def test_requests_work_again_after_the_connection_is_cut(
    vhost_url: str, make_broker: Callable[[str], RabbitBroker]
) -> None:
    async with (
        TcpProxy("127.0.0.1", 5672) as proxy,
        asking(make_broker, vhost_url, proxy.url(vhost_url)) as rpc,
    ):
        assert IdentityCheckReply.model_validate_json(await rpc.request(check(1), timeout=5)).taken
        await proxy.down_for(1.0)
        async with asyncio.timeout(30):  # the robust connection comes back, the consumer with it
            while True:
                try:
                    body = await rpc.request(check(5), timeout=2)
                    break
                except (TimeoutError, ConnectionError, RuntimeError):
                    await asyncio.sleep(0.5)
        assert IdentityCheckReply.model_validate_json(body).taken
