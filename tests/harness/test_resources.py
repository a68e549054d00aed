"""CPU accounting: a server's processes that come and go (PostgreSQL's backends) still count."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg

from devkit.harness.resources import (
    CpuMeter,
    cpu_seconds,
    infra_cpu_seconds,
    infra_pids,
    reaped_children_cpu_seconds,
)

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"


def test_a_child_that_exited_counts_through_its_parent() -> None:
    before = reaped_children_cpu_seconds(os.getpid())
    subprocess.run([sys.executable, "-c", BURN], check=True)
    assert reaped_children_cpu_seconds(os.getpid()) - before >= 0.25
    assert cpu_seconds(2**22 + 7) == 0.0  # no such process


async def test_a_backend_opened_after_the_first_sample_is_counted() -> None:
    meter = CpuMeter({}, infra=("postgresql",))
    before = meter.sample()
    # A connection opened after the first sample, burning CPU in its backend, then closed: the
    # backend is gone by the second sample, its CPU is the postmaster's reaped children's.
    connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await connection.execute("SELECT count(*) FROM generate_series(1, 3000000)")
    finally:
        await connection.close()
    for _ in range(50):  # the postmaster reaps the backend a moment after it exits
        used = CpuMeter.delta(before, meter.sample())
        if used["postgresql"] >= 0.1:
            break
        await asyncio.sleep(0.05)
    assert used["postgresql"] >= 0.1, used
    assert set(infra_cpu_seconds()) == {"rabbitmq", "redis", "postgresql"}


def test_a_client_naming_the_server_in_its_arguments_is_not_the_server() -> None:
    client = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(5)", "postgresql://postgres@x/y"]
    )
    try:
        assert client.pid not in infra_pids()["postgresql"]
    finally:
        client.kill()
        client.wait()
