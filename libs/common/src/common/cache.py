"""Redis client construction and its readiness check, shared by the services that use Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from common.service import ReadinessCheck, ServiceRuntime


def create_redis(url: str) -> Redis:
    # Short timeouts: a cache that does not answer must fail fast, not hang a handler.
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=2.0,
        health_check_interval=15,
    )


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
