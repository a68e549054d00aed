"""Throwaway resources on the machine's real services: a RabbitMQ vhost, a migrated database.

Used by the test fixtures and the benchmarks, so neither touches ``make run``'s data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlsplit

ADMIN_DATABASE_URL = os.environ.get(
    "TEST_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

# (host, port, the command that starts it on this machine kind)
RABBITMQ = ("127.0.0.1", 5672, "rabbitmq-server -detached")
POSTGRES = ("127.0.0.1", 5432, "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
REDIS = ("127.0.0.1", 6379, "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save ''")


class ServiceDown(RuntimeError):
    pass


def require(service: tuple[str, int, str], name: str) -> None:
    host, port, start = service
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        raise ServiceDown(
            f"{name} is not reachable at {host}:{port} ({exc}); start it with: {start}"
        ) from exc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def rabbitmq_vhost(prefix: str = "congress-test") -> Iterator[str]:
    """A fresh vhost (guest has full rights); yields its AMQP URL and deletes it afterwards."""
    require(RABBITMQ, "RabbitMQ")
    vhost = f"{prefix}-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


# Services that own a database: (console script, the variable naming its URL).
DATABASE_OWNERS = {
    "registration": ("congress-registration", "DATABASE_URL"),
    "notifier": ("congress-notifier", "NOTIFIER_DATABASE_URL"),
}


@contextmanager
def migrated_database(prefix: str = "congress_test", service: str = "registration") -> Iterator[str]:
    """A fresh database built by ``service``'s own migrations; dropped afterwards."""
    require(POSTGRES, "PostgreSQL")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    script, variable = DATABASE_OWNERS[service]
    migrate = os.path.join(os.path.dirname(sys.executable), script)
    subprocess.run(
        [migrate, "migrate"],
        check=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, variable: url},
    )
    try:
        yield url
    finally:
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        subprocess.run(
            ["psql", ADMIN_DATABASE_URL, "-q", "-c", drop], check=False, capture_output=True, timeout=60
        )


def redis_database(number: int) -> str:
    """Redis database ``number``, emptied."""
    require(REDIS, "Redis")
    subprocess.run(["redis-cli", "-n", str(number), "flushdb"], check=True, capture_output=True, timeout=30)
    return f"redis://127.0.0.1:6379/{number}"


def rabbitmq_queue_depths(amqp_url: str) -> dict[str, int]:
    """Messages (ready and unacknowledged) in each queue of ``amqp_url``'s vhost; {} when
    rabbitmqctl does not answer (the node is restarting)."""
    vhost = unquote(urlsplit(amqp_url).path.lstrip("/")) or "/"
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages", "--no-table-headers"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    depths = (line.split() for line in out.stdout.splitlines())
    return {fields[0]: int(fields[1]) for fields in depths if len(fields) == 2 and fields[1].isdigit()}


def rabbitmq_app(action: str) -> None:
    """``stop_app`` / ``start_app`` the machine's RabbitMQ node, for fault tests."""
    _rabbitmqctl(action)
