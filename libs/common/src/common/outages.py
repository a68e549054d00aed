"""Our own infrastructure going away for a while (a restart, a cut): wait it out in place.

A handler that meets an unreachable Redis, broker or database should neither dead-letter its
message (the cause is not the message) nor requeue it (quorum queues count a requeue toward the
delivery limit, so a few fast failures dead-letter it anyway): it waits, with capped exponential
backoff and full jitter, and carries on when the server answers. Only failures that mean "the
server is unreachable or restarting" are waited for; a bad query or bad data raises at once.
``database.outages`` adds the SQLAlchemy wrappers for services that own a database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

from common.logging import get_logger
from common.messaging import TRANSIENT_PUBLISH_ERRORS

log = get_logger(__name__)
T = TypeVar("T")

# SQLSTATEs of a server that is going away or not there yet: class 08 (connection exception),
# 57P01-03 (admin shutdown, crash shutdown, cannot connect now), 53300 (too many connections).
_TRANSIENT_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable (asyncpg raises these bare while connecting)
    RedisConnectionError,
    RedisTimeoutError,
    *TRANSIENT_PUBLISH_ERRORS,  # the broker restarting, as the publishes see it
)
_FIRST_PAUSE_S, _MAX_PAUSE_S = 0.1, 2.0


class Unavailable(Exception):
    """Our own infrastructure stayed unreachable for the whole wait."""


def is_transient(exc: BaseException) -> bool:
    """True for "the server is unreachable or restarting", not for a bad query or bad data."""
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    if isinstance(exc, RuntimeError) and "handler is closed" in str(exc):
        # uvloop's write on a transport the server just reset; redis-py lets it through unwrapped.
        return True
    sqlstate = getattr(exc, "sqlstate", None)  # asyncpg's errors carry the server's SQLSTATE
    return isinstance(sqlstate, str) and sqlstate.startswith(_TRANSIENT_SQLSTATES)


async def patiently(
    operation: Callable[[], Awaitable[T]],
    *,
    what: str,
    wait_s: float,
    transient: Callable[[BaseException], bool] = is_transient,
    still_wanted: Callable[[], bool] = lambda: True,
) -> T:
    """``operation()``, tried again while it fails transiently, for up to ``wait_s`` seconds.

    ``operation`` must be safe to repeat. Raises ``Unavailable`` past the wait; re-raises the
    failure at once when it is not transient or ``still_wanted()`` turns false (e.g. the message
    being handled went back to the broker with its channel).
    """
    try:  # the path taken when all is well, without tenacity's machinery (≈ 3 % of a service's CPU)
        return await operation()
    except Exception as exc:
        if not (transient(exc) and still_wanted()):
            raise
    failures = 0

    def waiting(state: RetryCallState) -> None:
        nonlocal failures
        failures += 1
        if failures == 1:
            error = state.outcome.exception() if state.outcome else None
            log.warning("infra.waiting", what=what, error=repr(error)[:300], wait_s=wait_s)

    retrying = AsyncRetrying(
        retry=retry_if_exception(lambda exc: transient(exc) and still_wanted()),
        wait=wait_random_exponential(multiplier=_FIRST_PAUSE_S, max=_MAX_PAUSE_S),  # full jitter
        stop=stop_after_delay(wait_s),
        before_sleep=waiting,
    )

    async def attempt() -> T:  # a coroutine function: tenacity would not await a lambda's result
        return await operation()

    try:
        result: T = await retrying(attempt)
    except RetryError as gave_up:
        last = gave_up.last_attempt.exception()
        raise Unavailable(f"{what}: unreachable for {wait_s:.0f} s ({last!r})"[:500]) from last
    if failures:
        log.warning("infra.recovered", what=what, failures=failures)
    return result
