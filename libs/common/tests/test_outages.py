"""Which failures are an outage to wait out (``common.outages``, with ``database.outages``'s
SQLAlchemy unwrapping), and how long the wait lasts."""

from __future__ import annotations

import pytest
from database.outages import is_transient, patiently
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from sqlalchemy.exc import DBAPIError, IntegrityError

from common.outages import Unavailable


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(104, "reset"),
        TimeoutError(),
        RedisConnectionError("down"),
        DBAPIError("select 1", None, Exception("closed"), connection_invalidated=True),
        DBAPIError("select 1", None, _PgError("57P01")),  # terminating: administrator command
        DBAPIError("select 1", None, _PgError("08006")),  # connection failure
        _PgError("57P03"),  # the database system is starting up (raised while connecting)
        RuntimeError("unable to perform operation on <TCPTransport closed=True>; the handler is closed"),
    ],
)
def test_an_unreachable_or_restarting_server_is_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        IntegrityError("insert", None, _PgError("23505")),  # a bug or bad data: waiting won't help
        DBAPIError("select", None, _PgError("42P01")),  # undefined table
        ResponseError("WRONGTYPE"),
        ValueError("bug"),
    ],
)
def test_a_bad_query_or_a_bug_is_not(exc: BaseException) -> None:
    assert not is_transient(exc)


async def test_patiently_retries_until_the_server_answers() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise ConnectionRefusedError(111, "refused")
        return "ok"

    assert await patiently(flaky, what="test", wait_s=5) == "ok"
    assert calls == 4


async def test_patiently_gives_up_as_unavailable_past_the_wait() -> None:
    async def down() -> None:
        raise ConnectionRefusedError(111, "refused")

    with pytest.raises(Unavailable, match="test: unreachable"):
        await patiently(down, what="test", wait_s=0.3)


async def test_patiently_does_not_retry_what_is_not_an_outage() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        await patiently(broken, what="test", wait_s=5)
    assert calls == 1


async def test_patiently_stops_waiting_when_the_work_is_no_longer_wanted() -> None:
    from common import outages

    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionRefusedError(111, "refused")

    with pytest.raises(ConnectionRefusedError):
        await outages.patiently(down, what="test", wait_s=5, still_wanted=lambda: calls < 2)
    assert calls == 2


async def test_patiently_awaits_what_a_plain_callable_returns() -> None:
    """Callers pass lambdas that return coroutines: their result is awaited, not returned as is."""
    from common import outages

    async def answer() -> str:
        return "ok"

    assert await outages.patiently(lambda: answer(), what="test", wait_s=1) == "ok"
