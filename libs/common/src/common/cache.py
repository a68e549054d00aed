"""Redis client construction and its readiness check, shared by the services that use Redis."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from common.service import ReadinessCheck, ServiceRuntime

# Connections a process opens at most. Past that, a command waits (up to the timeout) for a free
# one: the default pool raises "Too many connections" at once, a 503 for every webhook of a burst.
MAX_CONNECTIONS = 100


def create_redis(url: str) -> Redis:
    # Short timeouts: a cache that does not answer must fail fast, not hang a handler.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=2.0,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=2.0,
        health_check_interval=15,
    )
    return Redis.from_pool(pool)  # closing the client closes its pool


def redis_check(client: Redis) -> ReadinessCheck:
    async def check() -> None:
        await client.ping()

    return check


def attach_redis(runtime: ServiceRuntime, url: str) -> Redis:
    """A Redis client that the service checks for readiness, pings at start and closes at stop."""
    client = create_redis(url)
    runtime.checks["cache"] = redis_check(client)
    runtime.on_startup.append(client.ping)
    runtime.on_shutdown.append(client.aclose)
    return client
