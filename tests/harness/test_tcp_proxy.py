"""The fault proxy: traffic flows through it, ``down`` resets live connections and refuses new ones,
``up`` listens again on the same port (against the machine's real Redis and PostgreSQL)."""

from __future__ import annotations

import asyncpg
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from devkit.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


async def test_redis_through_the_proxy_fails_while_down_and_recovers(redis_url: str) -> None:
    async with TcpProxy("127.0.0.1", 6379) as proxy:
        client = Redis.from_url(proxy.url(redis_url), socket_connect_timeout=1)
        try:
            await client.set("proxy:k", "v")
            assert await client.get("proxy:k") == b"v"
            port = proxy.port
            await proxy.down()
            with pytest.raises(RedisConnectionError):
                await client.get("proxy:k")
            await proxy.up()
            assert proxy.port == port
            assert await client.get("proxy:k") == b"v"  # redis-py reconnects through the same port
            assert proxy.connections >= 2
        finally:
            await client.aclose()


async def test_a_live_postgres_connection_is_reset_by_down(database_url: str) -> None:
    async with TcpProxy("127.0.0.1", 5432) as proxy:
        dsn = proxy.url(database_url.replace("postgresql+asyncpg", "postgresql"))
        conn = await asyncpg.connect(dsn)
        assert await conn.fetchval("select 1") == 1
        await proxy.down()
        with pytest.raises((OSError, asyncpg.exceptions.ConnectionDoesNotExistError)):
            await conn.fetchval("select 1")
        with pytest.raises(ConnectionRefusedError):
            await asyncpg.connect(dsn, timeout=2)
        await proxy.up()
        conn = await asyncpg.connect(dsn)
        assert await conn.fetchval("select 1") == 1
        await conn.close()


def test_url_keeps_user_path_and_query() -> None:
    proxy = TcpProxy("127.0.0.1", 5672)
    proxy.port = 15672
    assert proxy.url("amqp://guest:guest@127.0.0.1:5672/vh?heartbeat=5") == (
        "amqp://guest:guest@127.0.0.1:15672/vh?heartbeat=5"
    )
    assert proxy.url("redis://127.0.0.1:6379/3") == "redis://127.0.0.1:15672/3"
