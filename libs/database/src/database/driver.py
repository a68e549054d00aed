"""The hottest statements straight on asyncpg, on a connection from SQLAlchemy's pool.

SQLAlchemy's execute path (the compiled-statement cache, the greenlet bridge, the result wrapper)
costs about as much CPU as asyncpg's own work for a one-row statement: in the notifier, whose
delivery log writes two rows per message, SQLAlchemy and asyncpg together were 17 % of its CPU
(py-spy, 2026-11-24), asyncpg's execute 8 % of it. A ``DriverStatement`` is a SQLAlchemy ``text``
compiled once for the engine's dialect (``$1``, ``$2`` … in the order of its names), executed
autocommitted (no BEGIN / COMMIT) with asyncpg's own prepared-statement cache.

A connection found dead is dropped from the pool and the failure raised as a ``ConnectionResetError``,
which ``database.outages`` waits out like any other outage: the retry gets another connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import TextClause
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class DriverStatement:
    """``statement`` as asyncpg takes it, for ``engine``'s dialect."""

    def __init__(self, statement: TextClause, engine: AsyncEngine) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


class DriverConnection:
    """One pooled connection, checked out by ``Driver.connect``."""

    def __init__(self, conn: AsyncConnection, driver: Any) -> None:
        self._conn = conn
        self._driver = driver  # the asyncpg connection

    async def fetchrow(self, statement: DriverStatement, params: Mapping[str, Any]) -> Any:
        """The first row (an ``asyncpg.Record``, indexable by name and position), or None."""
        try:
            return await self._driver.fetchrow(statement.sql, *statement.args(params))
        except Exception as exc:
            if not self._driver.is_closed():
                raise  # the statement failed, not the connection
            await self._conn.invalidate(exc)  # never handed out again
            raise ConnectionResetError(f"database connection lost: {exc!r}") from exc


class Driver:
    """Runs ``DriverStatement``s autocommitted on ``engine``'s pooled connections."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[DriverConnection]:
        """A connection for several statements (or to know that one was checked out)."""
        async with self._engine.connect() as conn:
            pooled = await conn.get_raw_connection()
            yield DriverConnection(conn, pooled.driver_connection)

    async def fetchrow(self, statement: DriverStatement, params: Mapping[str, Any]) -> Any:
        """One statement on a connection of its own: its first row, or None."""
        async with self.connect() as conn:
            return await conn.fetchrow(statement, params)
