"""Registration benchmark (not ``registration.py``, which would shadow the package). Measures
completed registrations per second through the broker and the database, and the time to export
100,000 participants.

Starts the registration service as a process against the machine's RabbitMQ and PostgreSQL (a
throwaway vhost and database), then
  1. publishes N ``registration.submit`` requests (C in flight, like N chats confirming their form)
     and counts, from the first publish: the replies (the participant committed with its outbox row)
     and the ``registration.completed`` events (the outbox relay published them with confirms);
  2. loads P participants straight into the database (CPFs encrypted as the service does) and
     times the streamed CSV and XLSX exports over HTTP.
``--database-only`` measures instead the service's submit use case in this process against the
database, no broker (the outbox relay runs, its publisher does nothing): the database path alone.
With ``--replicas 1,2`` the submit stage runs once per replica count (a fresh system each time;
the outbox relay is replica-safe). CPU per registration is measured from /proc for the registration
processes, the PostgreSQL backends serving the bench database, and all of PostgreSQL and RabbitMQ
(shared with anyone else's load on the machine, so an upper bound). Prints the figures; asserts
nothing. Usage: python bench/registrations.py [--submits N] [--concurrency C] [--participants P]
[--replicas 1,2] [--database-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime
from typing import cast

import aio_pika
import aiohttp
from database.engine import create_engine, create_sessionmaker
from sqlalchemy import insert, text

from common.contracts import Contract, Provider, SubmitRegistration
from common.logging import configure_logging
from common.messaging import EXCHANGE, ConfirmedPublisher
from devkit import infra
from devkit.harness.resources import cpu_seconds, infra_cpu_seconds
from devkit.processes import Supervisor, service_spec
from registration.admin.tokens import Scope, TokenStore
from registration.app import EVENTS, database_engine
from registration.config import RegistrationSettings
from registration.models import Participant
from registration.outbox import OutboxRelay
from registration.service import Registrations

EVENT = "bench-2027"


def cpf(n: int) -> str:
    """The n-th valid CPF (right check digits)."""
    body = [int(d) for d in f"{100_000_000 + n:09d}"]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(body, range(length + 1, 1, -1), strict=True))
        body.append((total * 10 % 11) % 10)
    return "".join(map(str, body))


def submit(n: int) -> SubmitRegistration:
    return SubmitRegistration(
        event_id=EVENT, provider=Provider.META, conversation_key=f"meta:bench:{n}",
        full_name=f"Participante {n} de Souza", email=f"p{n}@example.com", cpf=cpf(n),
        phone="+5564999990000", city="Rio Verde", uf="GO", profile="produtor",
        consent_version="2027-01", consented_at=datetime.now(UTC),
    )  # fmt: skip


class CpuMeter:
    """CPU seconds per group. PostgreSQL's processes are listed again at each sample and the
    postmaster's reaped children added, so backends that come and go (pool overflow) count too."""

    def __init__(self, registration: list[int], db_url: str) -> None:
        self._registration = registration
        self._db_url = db_url

    async def _sample(self) -> tuple[dict[str, float], dict[int, float]]:
        infra = infra_cpu_seconds(("postgresql", "rabbitmq"))
        totals = {
            "registration": sum(map(cpu_seconds, self._registration)),
            "postgresql (all)": infra["postgresql"],
            "rabbitmq (all)": infra["rabbitmq"],
        }
        return totals, {pid: cpu_seconds(pid) for pid in await database_backends(self._db_url)}

    async def start(self) -> None:
        self._before = await self._sample()

    async def stop(self) -> dict[str, float]:
        (totals, backends), (totals_before, backends_before) = await self._sample(), self._before
        cpu = {name: totals[name] - totals_before[name] for name in totals}
        print(f"  ({len(backends_before)} backends of this db before, {len(backends)} after)")
        cpu["postgres backends of this db"] = sum(
            backends[pid] - backends_before[pid] for pid in backends if pid in backends_before
        )
        return cpu


async def database_backends(db_url: str) -> list[int]:
    """PostgreSQL backend pids connected to the bench database (the services' pools)."""
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            pids = await conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                     "AND pid <> pg_backend_pid()")
            )  # fmt: skip
            return list(pids)
    finally:
        await engine.dispose()


async def measure_submits(
    amqp_url: str, submits: int, concurrency: int, offset: int, meter: CpuMeter | None = None
) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(EXCHANGE.name)
        replies = await channel.declare_queue(exclusive=True)
        events = await channel.declare_queue(exclusive=True)
        await events.bind(exchange, routing_key="registration.completed")
        done = {"replies": 0, "events": 0}
        finished = {name: asyncio.Event() for name in done}
        stamps: dict[str, float] = {}
        in_flight = asyncio.Semaphore(concurrency)

        def counter(name: str):  # type: ignore[no-untyped-def]
            async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                await message.ack()
                if name == "replies":
                    in_flight.release()
                done[name] += 1
                if done[name] == submits:
                    stamps[name] = time.perf_counter()
                    finished[name].set()

            return on_message

        await replies.consume(counter("replies"))
        await events.consume(counter("events"))
        if meter:
            await meter.start()
        started = time.perf_counter()
        publishes = []
        for n in range(offset, offset + submits):
            await in_flight.acquire()
            command = submit(n)
            # Confirms awaited concurrently (as C chats would send): one at a time, the quorum
            # queue's confirm latency would bound the offered rate, not the service.
            publishes.append(asyncio.ensure_future(exchange.publish(
                aio_pika.Message(
                    command.model_dump_json().encode(), content_type="application/json",
                    message_id=str(command.message_id), reply_to=replies.name,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=command.message_type(),
                ),
                routing_key=SubmitRegistration.ROUTING_KEY,
            )))  # fmt: skip
        await asyncio.gather(*publishes)
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in finished.values())), timeout=600)
        cpu = await meter.stop() if meter else {}
    for name in ("replies", "events"):
        elapsed = stamps[name] - started
        rate = submits / elapsed
        print(f"  {submits} submits, {concurrency} in flight: {name:8} {rate:7.0f}/s ({elapsed:.2f} s)")
    if cpu:
        per = ", ".join(f"{name} {seconds / submits * 1000:.2f}" for name, seconds in cpu.items())
        print(f"  CPU ms per registration: {per}")
        print("  (backends of this db: those alive at both samples; 'all': machine-wide, shared with others)")


async def load_participants(db_url: str, count: int) -> None:
    vault = RegistrationSettings(_env_file=None).cpf_vault()
    engine = create_engine(db_url)
    try:
        now = datetime.now(UTC)
        for start in range(0, count, 5000):
            rows = []
            for n in range(start + 1_000_000, min(start + 5000, count) + 1_000_000):
                sealed = vault.seal(cpf(n))
                rows.append({
                    "id": uuid.uuid4(), "code": f"BEN-{n}", "event_id": EVENT,
                    "full_name": f"Participante {n} de Souza", "email": f"x{n}@example.com",
                    "cpf_hmac": vault.fingerprint(cpf(n)), "cpf_ciphertext": sealed.ciphertext,
                    "cpf_key_id": sealed.key_id, "phone_e164": "+5564999990000", "city": "Rio Verde",
                    "uf": "GO", "profile": "produtor", "consent_version": "2027-01", "consented_at": now,
                    "provider": "meta", "conversation_key": f"meta:load:{n}", "status": "confirmed",
                })  # fmt: skip
            async with engine.begin() as conn:
                await conn.execute(insert(Participant), rows)
    finally:
        await engine.dispose()


async def measure_exports(base_url: str, db_url: str) -> None:
    engine = create_engine(db_url)
    token = await TokenStore(create_sessionmaker(engine)).create(
        f"bench-{uuid.uuid4().hex[:6]}", [Scope.EXPORT]
    )
    await engine.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=900)) as http:
        for kind in ("csv", "xlsx"):
            started = time.perf_counter()
            first_byte = None
            size = 0
            async with http.get(f"{base_url}/admin/exports/participants.{kind}", headers=headers) as answer:
                answer.raise_for_status()
                async for chunk in answer.content.iter_chunked(1 << 16):
                    first_byte = first_byte or time.perf_counter() - started
                    size += len(chunk)
            elapsed = time.perf_counter() - started
            print(f"  export {kind:4}: {elapsed:6.2f} s, first byte after {first_byte or 0:.2f} s, "
                  f"{size / 1e6:.1f} MB")  # fmt: skip


async def run(submits: int, concurrency: int, participants: int, replicas: int) -> None:
    with (
        infra.rabbitmq_vhost("congress-bench") as amqp_url,
        infra.migrated_database("congress_bench") as db_url,
    ):
        ports = [infra.free_port() for _ in range(replicas)]
        env = {"AMQP_URL": amqp_url, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING", "BROKER_PREFETCH": "64"}
        supervisor = Supervisor()
        specs = [service_spec("registration", port, env) for port in ports]
        for index, spec in enumerate(specs):
            spec.name = f"registration-{index}"
        await supervisor.start(specs)
        try:
            await supervisor.wait_ready(timeout=60)
            print(f"registration × {replicas}: submit → reply (committed) and → registration.completed "
                  f"(published)")  # fmt: skip
            await measure_submits(amqp_url, 200, 32, 0)  # warm-up (and every pool connection opened)
            meter = CpuMeter([c.process.pid for c in supervisor.children], db_url)
            await measure_submits(amqp_url, submits, concurrency, 1000, meter)
            if participants:
                print(f"exports of {participants:,} participants (+ {submits + 200} from above)")
                started = time.perf_counter()
                await load_participants(db_url, participants)
                print(f"  (loaded in {time.perf_counter() - started:.1f} s)")
                await measure_exports(f"http://127.0.0.1:{ports[0]}", db_url)
        finally:
            await supervisor.stop()


class NoPublisher:
    """The relay's publisher for ``--database-only``: the relay's database work stays, the broker goes."""

    async def publish(self, event: Contract) -> None:
        pass


async def measure_database_path(submits: int, concurrency: int) -> None:
    configure_logging("registration", "WARNING")  # as the service runs in the broker stage
    with infra.migrated_database("congress_bench") as db_url:
        settings = RegistrationSettings(_env_file=None, database_url=db_url)
        engine = database_engine(settings)
        sessions = create_sessionmaker(engine)
        relay = OutboxRelay(sessions, cast(ConfirmedPublisher, NoPublisher()), EVENTS)
        registrations = Registrations(sessions, settings.cpf_vault(), "BEN", on_events=relay.wake)
        await relay.start()
        in_flight = asyncio.Semaphore(concurrency)

        async def one(n: int) -> None:
            async with in_flight:
                await registrations.submit(submit(n))

        try:
            await asyncio.gather(*map(one, range(200)))  # warm-up
            meter = CpuMeter([os.getpid()], db_url)
            await meter.start()
            started = time.perf_counter()
            await asyncio.gather(*map(one, range(1000, 1000 + submits)))
            elapsed = time.perf_counter() - started
            cpu = await meter.stop()
        finally:
            await relay.stop()
            await engine.dispose()
    rate = submits / elapsed
    print(f"database path, in process: {submits} submits, {concurrency} concurrent: {rate:.0f}/s")
    per = {name: f"{seconds / submits * 1000:.2f}" for name, seconds in cpu.items()}
    print(f"  CPU ms per submit: this process {per['registration']}, postgres backends of this db "
          f"{per['postgres backends of this db']}, postgresql (all) {per['postgresql (all)']}")  # fmt: skip


async def main(
    submits: int, concurrency: int, participants: int, replicas: list[int], database_only: bool
) -> None:
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"load average before: {load}, {os.cpu_count()} CPUs")
    if database_only:
        await measure_database_path(submits, concurrency)
        return
    for index, count in enumerate(replicas):
        # The exports are measured once, with the last replica count.
        await run(submits, concurrency, participants if index == len(replicas) - 1 else 0, count)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--submits", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--participants", type=int, default=100_000, help="0: no export stage")
    parser.add_argument("--replicas", default="1", help="comma-separated replica counts, e.g. 1,2")
    parser.add_argument("--database-only", action="store_true", help="the submit use case alone, no broker")
    args = parser.parse_args()
    counts = [int(n) for n in args.replicas.split(",")]
    asyncio.run(main(args.submits, args.concurrency, args.participants, counts, args.database_only))
