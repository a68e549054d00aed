"""What an outage of the notifier's own infrastructure does: the message waits, never dead-letters.

The delivery log (PostgreSQL) is the send's idempotency record: no send without it. A database
that does not answer is waited for *in place* (capped exponential backoff, full jitter): the
message keeps its shard, so its conversation stays in order, and nothing else on the shard could
proceed anyway. Past the wait it raises ``Unavailable`` and the handler hands the message to a
retry tier (acked here, back in a few seconds) instead of dead-lettering it. Redis (the rate
limits) is not needed for a correct send: see ``notifier.rate_limit``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from common.logging import get_logger
from notifier.errors import Unavailable

log = get_logger(__name__)
T = TypeVar("T")

# SQLSTATEs of a server that is going away or not there yet: class 08 (connection exception),
# 57P01-03 (admin shutdown, crash shutdown, cannot connect now), 53300 (too many connections).
_TRANSIENT_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable (asyncpg raises these bare while connecting)
    TimeoutError,
    PoolTimeout,
    RedisConnectionError,
    RedisTimeoutError,
)
_FIRST_PAUSE_S, _MAX_PAUSE_S = 0.1, 2.0


def is_transient(exc: BaseException) -> bool:
    """True for "the server is unreachable or restarting", not for a bad query or bad data."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_TRANSIENT_SQLSTATES)


async def patiently(operation: Callable[[], Awaitable[T]], *, what: str, wait_s: float) -> T:
    """``operation()``, tried again while it fails transiently, for up to ``wait_s`` seconds.

    ``operation`` must be safe to repeat (each is one transaction whose effect, if a cut hid its
    commit, the next try recognises: see ``DeliveryLog.begin``). Raises ``Unavailable`` past the wait.
    """
    deadline = time.monotonic() + wait_s
    pause = _FIRST_PAUSE_S
    failures = 0
    while True:
        try:
            result = await operation()
        except Exception as exc:
            if not is_transient(exc):
                raise
            failures += 1
            if failures == 1:
                log.warning("infra.waiting", what=what, error=repr(exc)[:300], wait_s=wait_s)
            if time.monotonic() + pause > deadline:
                raise Unavailable(f"{what}: unreachable for {wait_s:.0f} s ({exc!r})"[:500]) from exc
            await asyncio.sleep(pause * random.random())  # noqa: S311 (full jitter, not crypto)
            pause = min(pause * 2, _MAX_PAUSE_S)
            continue
        if failures:
            log.warning("infra.recovered", what=what, failures=failures)
        return result


@dataclass(frozen=True)
class Patience:
    """How long a send waits for the delivery log's database."""

    before_s: float = 30.0  # to begin: past it the message goes to a retry tier, nothing was sent
    after_s: float = 600.0  # to record the provider's answer: it exists only in this process
