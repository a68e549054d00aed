"""``common.outages`` for the services that own a database: SQLAlchemy's wrappers unwrapped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from common import outages

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """``common.outages.is_transient``, also for a connection SQLAlchemy saw die or a pool that
    found no connection in time."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if exc.orig is not None else exc
    return outages.is_transient(exc)


async def patiently(operation: Callable[[], Awaitable[T]], *, what: str, wait_s: float) -> T:
    """``common.outages.patiently`` with the database's idea of an outage."""
    return await outages.patiently(operation, what=what, wait_s=wait_s, transient=is_transient)
