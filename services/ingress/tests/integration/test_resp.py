"""Ingress's pipelined Redis client against the real Redis, and through a TCP proxy for faults."""

import asyncio
import uuid

import pytest
import uvloop
from redis.asyncio import Redis

from devkit.tcp_proxy import TcpProxy
from ingress.resp import PipelinedRedis, RedisReplyError

pytestmark = pytest.mark.integration


@pytest.fixture
async def lean(redis_url):
    client = PipelinedRedis(redis_url)
    yield client
    await client.aclose()


async def test_concurrent_commands_each_get_their_own_reply(lean):
    values = [f"v{i}-{'x' * (i % 7) * 1000}" for i in range(500)]  # some replies span several reads
    assert await asyncio.gather(*(lean.execute("ECHO", v) for v in values)) == values


def test_under_uvloop_as_the_service_runs(redis_url):
    async def roundtrip() -> list[str]:
        lean = PipelinedRedis(redis_url)
        try:
            return await asyncio.gather(*(lean.execute("ECHO", str(i)) for i in range(100)))
        finally:
            await lean.aclose()

    assert uvloop.run(roundtrip()) == [str(i) for i in range(100)]


async def test_reply_types(lean):
    key = f"test:{uuid.uuid4().hex}"
    assert await lean.execute("SET", key, "1", "EX", 60) == "OK"
    assert await lean.execute("INCRBY", key, 41) == 42
    assert await lean.execute("GET", key + ":absent") is None
    assert await lean.execute("EVAL", "return {1, 'a', {2}}", 0) == [1, "a", [2]]
    with pytest.raises(RedisReplyError, match="WRONGTYPE"):
        await lean.execute("HGET", key, "field")
    assert await lean.execute("DEL", key) == 1  # an error reply leaves the connection usable


async def test_the_url_database_is_selected(redis_url):
    key = f"test:{uuid.uuid4().hex}"
    lean = PipelinedRedis(redis_url)
    reader = Redis.from_url(redis_url, decode_responses=True)
    try:
        await lean.execute("SET", key, "here", "EX", 60)
        assert await reader.get(key) == "here"  # redis-py on the same URL (same database) sees it
    finally:
        await lean.aclose()
        await reader.aclose()


async def test_a_cut_connection_fails_what_waits_and_the_next_command_reconnects(redis_url):
    async with TcpProxy("127.0.0.1", 6379, latency_s=0.2) as proxy:
        lean = PipelinedRedis(proxy.url(redis_url))
        try:
            assert await lean.execute("PING") == "PONG"
            waiting = asyncio.ensure_future(lean.execute("PING"))
            await asyncio.sleep(0.05)
            await proxy.down()
            with pytest.raises(ConnectionError):
                await waiting
            with pytest.raises(ConnectionRefusedError):  # while the proxy is down
                await lean.execute("PING")
            await proxy.up()
            assert await lean.execute("PING") == "PONG"
            assert proxy.connections == 2
        finally:
            await lean.aclose()


async def test_a_server_that_never_answers_times_out():
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(1024):
                pass
        finally:
            writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    lean = PipelinedRedis(f"redis://127.0.0.1:{port}/0", timeout_s=0.4)
    try:
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(*(lean.execute("PING") for _ in range(3)), return_exceptions=True)
        assert all(isinstance(r, TimeoutError) for r in results), results
        assert asyncio.get_running_loop().time() - started < 1.0
    finally:
        await lean.aclose()
        server.close()
