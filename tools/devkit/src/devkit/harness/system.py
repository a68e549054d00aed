"""The system under test: the four services as processes (N replicas each) against a throwaway
RabbitMQ vhost, PostgreSQL database and Redis db, with a Graph API stand-in as the provider and
an SMTP stand-in as the mail server. ``proxied`` puts a ``TcpProxy`` between every service and
PostgreSQL and/or Redis, so a scenario can cut them for the services alone (``System.proxies``)
without stopping the machine's shared servers.

A service can be SIGKILLed and started again mid-load (``kill`` / ``restart``), the way a crashed
container comes back.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace

from aiohttp import web

from devkit import infra
from devkit.harness.graph import LoadGraph
from devkit.harness.smtp import SmtpStandin
from devkit.processes import SERVICES, Child, Supervisor, service_spec
from devkit.tcp_proxy import TcpProxy

APP_SECRET = "harness-app-secret"


@dataclass(frozen=True)
class SystemConfig:
    replicas: dict[str, int] = field(default_factory=dict)  # service -> count (default 1)
    redis_db: int = 10
    log_level: str = "WARNING"
    env: dict[str, str] = field(default_factory=dict)
    proxied: tuple[str, ...] = ()  # "postgres", "redis": the services reach them through a proxy
    receipts: bool = False  # the Graph stand-in posts Meta's 'sent' receipts to ingress


@dataclass
class System:
    supervisor: Supervisor
    amqp_url: str
    database_url: str
    redis_url: str
    graph: LoadGraph
    ingress_urls: list[str]
    smtp: SmtpStandin
    app_secret: str = APP_SECRET
    proxies: dict[str, TcpProxy] = field(default_factory=dict)  # by server name, see ``proxied``

    def children(self, service: str) -> list[Child]:
        """The running processes of ``service`` (its replicas are named ``service-N``)."""
        return [
            c
            for c in self.supervisor.children
            if c.spec.name == service or c.spec.name.startswith(f"{service}-")
        ]

    def pids(self) -> dict[str, int]:
        return {c.spec.name: c.process.pid for c in self.supervisor.children if c.process.returncode is None}

    async def kill(self, name: str) -> Child:
        """SIGKILL one process (a replica's own name, or a service's first process)."""
        exact = [c for c in self.supervisor.children if c.spec.name == name]
        child = (exact or self.children(name))[0]
        child.process.send_signal(signal.SIGKILL)
        await child.process.wait()
        if child.pump is not None:
            await child.pump
        self.supervisor.children.remove(child)
        return child

    async def restart(self, name: str, *, down_s: float = 0.0) -> None:
        """SIGKILL ``name``, wait ``down_s``, start it again and wait until it is ready."""
        child = await self.kill(name)
        await asyncio.sleep(down_s)
        await self.supervisor.start([child.spec])
        await self.supervisor.wait_ready(timeout=60)

    def dump_logs(self, tail: int = 60) -> None:
        for child in self.supervisor.children:
            for line in child.lines[-tail:]:
                sys.stderr.write(f"{child.spec.name} | {line}\n")


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = infra.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def launch(config: SystemConfig, graph: LoadGraph | None = None) -> AsyncIterator[System]:
    """Start everything; on exit stop the services and drop the vhost and database."""
    graph = graph or LoadGraph()
    smtp = SmtpStandin()
    await smtp.start()
    async with AsyncExitStack() as stack:
        stack.push_async_callback(smtp.stop)
        amqp_url = stack.enter_context(infra.rabbitmq_vhost("congress-harness"))
        database_url = stack.enter_context(infra.migrated_database("congress_harness"))
        notifier_db = stack.enter_context(infra.migrated_database("congress_harness_n", service="notifier"))
        redis_url = infra.redis_database(config.redis_db)
        graph_url = await stack.enter_async_context(serve(graph.app()))
        servers = {"postgres": infra.POSTGRES, "redis": infra.REDIS}
        proxies = {
            name: await stack.enter_async_context(TcpProxy(*servers[name][:2])) for name in config.proxied
        }

        def through(name: str, url: str) -> str:  # the services' URL; the harness keeps the direct one
            return proxies[name].url(url) if name in proxies else url

        env = {
            "ENVIRONMENT": "test",
            "AMQP_URL": amqp_url,
            "REDIS_URL": through("redis", redis_url),
            "DATABASE_URL": through("postgres", database_url),
            "NOTIFIER_DATABASE_URL": through("postgres", notifier_db),
            # The stand-in is one business number: Meta's 80 sends/s tier would cap the whole run.
            "RATE_LIMIT_BUSINESS_PER_S": "0",
            "RATE_LIMIT_RECIPIENT_PER_MINUTE": "0",
            "META_APP_SECRET": APP_SECRET,
            "META_ACCESS_TOKEN": "harness-access-token",
            "META_GRAPH_URL": graph_url,
            "LOG_LEVEL": config.log_level,
            "SMTP_HOST": smtp.host,
            "SMTP_PORT": str(smtp.port),
            **config.env,
        }
        specs = []
        ingress_urls = []
        for service in SERVICES:
            count = config.replicas.get(service, 1)
            for n in range(1, count + 1):
                port = infra.free_port()
                spec = service_spec(service, port, env)
                specs.append(replace(spec, name=f"{service}-{n}") if count > 1 else spec)
                if service == "ingress":
                    ingress_urls.append(f"http://127.0.0.1:{port}")
        if config.receipts:
            graph.send_receipts(ingress_urls, APP_SECRET)
            stack.push_async_callback(graph.close)
        supervisor = Supervisor(stop_timeout=20)
        await supervisor.start(specs)
        system = System(
            supervisor, amqp_url, database_url, redis_url, graph, ingress_urls, smtp, proxies=proxies
        )
        try:
            await supervisor.wait_ready(timeout=90)
            yield system
        except BaseException:
            system.dump_logs()
            raise
        finally:
            await asyncio.shield(supervisor.stop())
