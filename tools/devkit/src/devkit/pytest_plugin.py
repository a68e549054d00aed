"""Pytest fixtures for tests that use the real RabbitMQ, PostgreSQL and Redis of this machine.

Each test session gets its own RabbitMQ vhost, PostgreSQL database (migrated) and Redis database
number, so tests never see ``make run``'s data nor each other's. A service that does not answer
fails the test with the command that starts it: these tests never skip.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import pytest
import pytest_asyncio
import structlog
from aiohttp import web
from hypothesis import settings

from devkit import infra
from devkit.gateway_standin import GatewayStandin
from devkit.graph_standin import GraphStandin
from devkit.openai_standin import OpenAiStandin
from devkit.otlp_standin import OtlpStandin
from devkit.processes import SERVICES, Supervisor, service_spec

# Parallel test runs on one machine (e.g. two worktrees) each pick their own database.
TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "15"))

# `make test` (and CI) runs the same generated examples every time, so a red run is reproducible
# and never a coin toss; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) explores new ones.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("fuzz", max_examples=2000, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``common.logging.configure_logging`` binds its handler to the test's captured stdout (call it
    in the test, after capture starts): the root logger and structlog are put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.fixture(scope="module")
def amqp_url() -> Iterator[str]:
    """A fresh RabbitMQ vhost for this test module (about a second to make).

    Per module, not per session: a message one module leaves in a durable queue (a registration
    event a registration test published, a reply in flight when a system stopped) would otherwise
    reach the next module's consumers mid-test — CI once saw the first end-to-end system's notifier
    send a registration test's confirmation during the broker-outage test.
    """
    with _or_fail(), infra.rabbitmq_vhost() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    with _or_fail():
        return infra.redis_database(TEST_REDIS_DB)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, built by running the migrations."""
    with _or_fail(), infra.migrated_database() as url:
        yield url


@pytest.fixture(scope="session")
def notifier_database_url() -> Iterator[str]:
    """A fresh delivery-log database for this session, built by the notifier's migrations."""
    with _or_fail(), infra.migrated_database("congress_notifier_test", service="notifier") as url:
        yield url


@contextmanager
def _or_fail() -> Iterator[None]:
    try:
        yield
    except infra.ServiceDown as exc:
        pytest.fail(str(exc))


@dataclass
class RunningStandin:
    standin: GraphStandin
    url: str


@pytest_asyncio.fixture(scope="module")
async def graph_server() -> AsyncIterator[RunningStandin]:
    """A local Graph API stand-in speaking Meta's send protocol, on a free port (per module)."""
    standin = GraphStandin(access_token="test-access-token")
    async with _serve(standin.app()) as url:
        yield RunningStandin(standin, url)


@dataclass
class RunningGateways:
    standin: GatewayStandin
    url: str


@pytest_asyncio.fixture(scope="module")
async def gateways_server() -> AsyncIterator[RunningGateways]:
    """Stand-ins of the Evolution API, Z-API and Whaticket send APIs on one free port."""
    standin = GatewayStandin()
    async with _serve(standin.app()) as url:
        yield RunningGateways(standin, url)


@pytest.fixture
def gateways(gateways_server: RunningGateways) -> RunningGateways:
    gateways_server.standin.reset()
    return gateways_server


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp app on a free local port; yields its URL."""
    async with _serve(app) as url:
        yield url


@dataclass
class RunningOpenAi:
    standin: OpenAiStandin
    url: str  # the server's root
    base_url: str  # what OPENAI_BASE_URL would be: the root plus /v1
    api_key: str


TEST_OPENAI_API_KEY = "test-openai-key"


@pytest_asyncio.fixture(scope="module")
async def openai_server() -> AsyncIterator[RunningOpenAi]:
    """A local OpenAI-compatible stand-in (chat with tool calls, transcriptions) on a free port."""
    standin = OpenAiStandin(api_key=TEST_OPENAI_API_KEY)
    async with _serve(standin.app()) as url:
        yield RunningOpenAi(standin, url, f"{url}/v1", TEST_OPENAI_API_KEY)


@pytest.fixture
def openai_api(openai_server: RunningOpenAi) -> RunningOpenAi:
    """The module's OpenAI stand-in, its script and recorded requests emptied for this test."""
    openai_server.standin.reset()
    return openai_server


@asynccontextmanager
async def _serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = infra.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class RunningSystem:
    supervisor: Supervisor
    ingress_url: str
    graph: GraphStandin
    traces: OtlpStandin
    app_secret: str
    verify_token: str


TEST_APP_SECRET = "test-app-secret"
TEST_VERIFY_TOKEN = "test-verify-token"
TEST_PHONE_NUMBER_ID = "1122334455667"


@pytest_asyncio.fixture(scope="module")
async def running_system(
    amqp_url: str,
    redis_url: str,
    database_url: str,
    notifier_database_url: str,
    graph_server: RunningStandin,
) -> AsyncIterator[RunningSystem]:
    """The four services as processes, against this module's broker vhost and this session's
    database and cache.

    They export traces over OTLP to a local receiver, as they would to a collector.
    """
    traces = OtlpStandin()
    async with (
        _serve(traces.app()) as otlp_url,
        _run_system(
            amqp_url,
            redis_url,
            database_url,
            graph_server,
            traces,
            otlp_url,
            notifier_db=notifier_database_url,
        ) as system,
    ):
        yield system


@asynccontextmanager
async def _run_system(
    amqp_url: str,
    redis_url: str,
    database_url: str,
    graph_server: RunningStandin,
    traces: OtlpStandin,
    otlp_url: str,
    extra_env: dict[str, str] | None = None,
    *,
    notifier_db: str,
) -> AsyncIterator[RunningSystem]:
    env = (extra_env or {}) | {
        "NOTIFIER_DATABASE_URL": notifier_db,
        # Scripted users type faster than people: Meta's pair rate is the notifier's tests' business.
        "RATE_LIMIT_RECIPIENT_PER_MINUTE": "0",
        "ENVIRONMENT": "test",
        "AMQP_URL": amqp_url,
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "META_APP_SECRET": TEST_APP_SECRET,
        "META_VERIFY_TOKEN": TEST_VERIFY_TOKEN,
        "META_ACCESS_TOKEN": "test-access-token",
        "META_PHONE_NUMBER_ID": TEST_PHONE_NUMBER_ID,
        "META_GRAPH_URL": graph_server.url,
        "LOG_LEVEL": "INFO",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_url,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # export within 0.2 s instead of 5 s
    }
    ports = {name: infra.free_port() for name in SERVICES}
    supervisor = Supervisor(stop_timeout=20)
    await supervisor.start([service_spec(name, ports[name], env) for name in SERVICES])
    try:
        await supervisor.wait_ready(timeout=60)
        yield RunningSystem(
            supervisor,
            f"http://127.0.0.1:{ports['ingress']}",
            graph_server.standin,
            traces,
            TEST_APP_SECRET,
            TEST_VERIFY_TOKEN,
        )
    except BaseException:
        for child in supervisor.children:
            sys.stderr.write("\n".join(f"{child.spec.name} | {line}" for line in child.lines) + "\n")
        raise
    finally:
        await asyncio.shield(supervisor.stop())


@asynccontextmanager
async def run_system(
    amqp_url: str,
    redis_url: str,
    database_url: str,
    graph_server: RunningStandin,
    extra_env: dict[str, str],
    *,
    notifier_database_url: str,
) -> AsyncIterator[RunningSystem]:
    """The four services as processes with extra settings (e.g. an LLM), for a module's own fixture."""
    traces = OtlpStandin()
    async with (
        _serve(traces.app()) as otlp_url,
        _run_system(
            amqp_url,
            redis_url,
            database_url,
            graph_server,
            traces,
            otlp_url,
            extra_env,
            notifier_db=notifier_database_url,
        ) as system,
    ):
        yield system


@pytest.fixture
def graph_api(graph_server: RunningStandin) -> RunningStandin:
    """The module's Graph API stand-in, emptied for this test."""
    graph_server.standin.reset()
    return graph_server


@pytest.fixture
def system(
    request: pytest.FixtureRequest, running_system: RunningSystem, graph_api: RunningStandin
) -> Iterator[RunningSystem]:
    """The running system (shared by a module's tests), its Graph API stand-in emptied.

    When the test fails, the services' recent logs are printed with the failure.
    """
    seen = {c.spec.name: len(c.lines) for c in running_system.supervisor.children}
    yield running_system
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for child in running_system.supervisor.children:
            for line in child.lines[seen[child.spec.name] :][-200:]:
                sys.stderr.write(f"{child.spec.name} | {line}\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
