"""Faults to inject mid-load: our own processes, the stand-ins, and the machine's shared servers.

Stopping RabbitMQ, PostgreSQL or Redis affects everyone on this machine: those faults always start
the server again (``finally``), and callers check ``other_pytest_runs`` first. Redis keeps nothing
on disk here; ``redis_stopped`` runs it as deployed (append-only file on, docker-compose.yml) for
the stop, so it comes back with its data, and puts the machine's setting back afterwards.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from devkit import infra

REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
# As docker-compose.yml runs it: every write in the append-only file, loaded again at start.
REDIS_AS_DEPLOYED = REDIS_START.replace("--appendonly no", "--appendonly yes")
REDIS_AOF_DIR = "/var/lib/redis/appendonlydir"
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


def _redis_info(section: str) -> dict[str, str]:
    out = subprocess.run(
        ["redis-cli", "info", section], check=True, capture_output=True, text=True, timeout=30
    )
    return dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)


async def _redis_until(done: Callable[[dict[str, str]], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not done(await asyncio.to_thread(_redis_info, "persistence")):
        if time.monotonic() > deadline:
            raise TimeoutError("Redis persistence did not settle")
        await asyncio.sleep(0.2)


@asynccontextmanager
async def redis_stopped() -> AsyncIterator[None]:
    """Redis as deployed stops cleanly and starts again from its append-only file.

    The machine's Redis keeps nothing on disk; production's does (``--appendonly yes``). So the
    append-only file is switched on first (Redis writes it from memory), the stop flushes it, the
    start loads it; then the machine's own setting comes back and the file is removed.
    """
    await asyncio.to_thread(_shell, "redis-cli config set appendonly yes")
    await _redis_until(
        lambda i: (
            i.get("aof_enabled") == "1"
            and i.get("aof_rewrite_in_progress") == "0"
            and i.get("aof_rewrite_scheduled") == "0"
        )
    )
    await asyncio.to_thread(_shell, "redis-cli shutdown")  # not NOSAVE: the AOF is fsynced
    try:
        yield
    finally:
        await asyncio.to_thread(_shell, REDIS_AS_DEPLOYED)
        await _wait_port(infra.REDIS)
        await _redis_until(lambda i: i.get("loading") == "0")
        await asyncio.to_thread(_shell, f"redis-cli config set appendonly no && rm -rf {REDIS_AOF_DIR}")
