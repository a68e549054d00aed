"""Faults to inject mid-load: our own processes, the stand-ins, and the machine's shared servers.

Stopping RabbitMQ, PostgreSQL or Redis affects everyone on this machine: those faults always start
the server again (``finally``), and callers check ``other_pytest_runs`` first. Redis keeps nothing
on disk here, so stopping it also empties it — what a real Redis without persistence does.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from devkit import infra

REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
POSTGRES_STOP = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main stop -m fast"


def _shell(command: str, timeout: float = 120) -> None:
    subprocess.run(["bash", "-c", command], check=True, capture_output=True, timeout=timeout)


async def _wait_port(server: tuple[str, int, str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            infra.require(server, "server")
            return
        except infra.ServiceDown:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


@asynccontextmanager
async def rabbitmq_stopped() -> AsyncIterator[None]:
    await asyncio.to_thread(infra.rabbitmq_app, "stop_app")
    try:
        yield
    finally:
        await asyncio.to_thread(infra.rabbitmq_app, "start_app")
        await _wait_port(infra.RABBITMQ)


@asynccontextmanager
async def postgres_stopped() -> AsyncIterator[None]:
    await asyncio.to_thread(_shell, POSTGRES_STOP)
    try:
        yield
    finally:
        await asyncio.to_thread(_shell, infra.POSTGRES[2])
        await _wait_port(infra.POSTGRES)


@asynccontextmanager
async def redis_stopped() -> AsyncIterator[None]:
    await asyncio.to_thread(_shell, "redis-cli shutdown nosave")
    try:
        yield
    finally:
        await asyncio.to_thread(_shell, REDIS_START)
        await _wait_port(infra.REDIS)
