"""What the run costs: CPU seconds per process (Linux /proc) and Redis memory per key family."""

from __future__ import annotations

import os
import subprocess
from collections import defaultdict
from dataclasses import dataclass

from redis.asyncio import Redis


def _stat(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 when it is gone)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def reaped_children_cpu_seconds(pid: int) -> float:
    """CPU time of a process's children that exited and were waited for (0 when it is gone)."""
    fields = _stat(pid)
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


# The machine's servers, by their processes' exact name (shared with anyone else's load). Not by
# command line: a client given a ``postgresql://postgres@…`` URL as an argument would count too.
INFRA = {"rabbitmq": "beam.smp", "redis": "redis-server", "postgresql": "postgres"}


def infra_pids(names: tuple[str, ...] = tuple(INFRA)) -> dict[str, list[int]]:
    """The processes of the machine's RabbitMQ, Redis and PostgreSQL (``names`` of them), now."""
    found: dict[str, list[int]] = {}
    for name in names:
        process = INFRA[name]
        out = subprocess.run(["pgrep", "-x", process], capture_output=True, text=True, check=False)
        found[name] = [int(p) for p in out.stdout.split()]
    return found


def infra_cpu_seconds(names: tuple[str, ...] = tuple(INFRA)) -> dict[str, float]:
    """CPU time of each server so far, its processes listed afresh: PostgreSQL runs a backend per
    connection, and a pool opens and closes them under load. A backend that exited counts through
    the postmaster (its parent, which waited for it)."""
    totals: dict[str, float] = {}
    for name, pids in infra_pids(names).items():
        members = set(pids)
        roots = [pid for pid in pids if _parent(pid) not in members]
        totals[name] = sum(map(cpu_seconds, pids)) + sum(map(reaped_children_cpu_seconds, roots))
    return totals


def _parent(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[1]) if fields else 0


@dataclass
class CpuMeter:
    """CPU seconds per named group of processes between ``start`` and ``stop``: ``groups``, fixed
    pids (the services, the load generator), and the ``infra`` servers, listed at each sample."""

    groups: dict[str, list[int]]
    infra: tuple[str, ...] = ()

    def sample(self) -> dict[str, float]:
        totals = {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.groups.items()}
        return {**totals, **infra_cpu_seconds(self.infra)} if self.infra else totals

    @staticmethod
    def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: after[name] - before.get(name, 0.0) for name in after}


async def redis_memory_by_family(redis_url: str) -> dict[str, dict[str, int]]:
    """Keys and bytes (MEMORY USAGE) per key family, e.g. ``conversation:session``, in this db."""
    families: dict[str, dict[str, int]] = defaultdict(lambda: {"keys": 0, "bytes": 0})
    client: Redis = Redis.from_url(redis_url)
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(count=1000):
            batch.append(key)
            if len(batch) >= 500:
                await _measure(client, batch, families)
                batch = []
        await _measure(client, batch, families)
    finally:
        await client.aclose()
    return dict(families)


async def _measure(client: Redis, keys: list[bytes], families: dict[str, dict[str, int]]) -> None:
    if not keys:
        return
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key)
    for key, size in zip(keys, await pipe.execute(), strict=True):
        family = ":".join(key.decode(errors="replace").split(":")[:2])
        families[family]["keys"] += 1
        families[family]["bytes"] += int(size or 0)


def other_pytest_runs() -> list[str]:
    """Test runs on this machine besides ours (our own ancestors excluded): faults on shared
    servers would break them, and figures measured beside them are noisy."""
    out = subprocess.run(["pgrep", "-af", "pytest"], capture_output=True, text=True, check=False)
    ours = _ancestors(os.getpid())
    return [
        line for line in out.stdout.splitlines() if int(line.split()[0]) not in ours and "pgrep" not in line
    ]


def _ancestors(pid: int) -> set[int]:
    chain = set()
    while pid > 1 and pid not in chain:
        chain.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    return chain
