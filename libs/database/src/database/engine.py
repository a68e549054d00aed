"""The async engine, sessions, readiness check and "create the database if missing"."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from common.service import ReadinessCheck


def create_engine(
    url: str, pool_size: int = 10, *, max_overflow: int = 10, pre_ping: bool = True
) -> AsyncEngine:
    """``pre_ping`` tests each connection at checkout (asyncpg: BEGIN, a ping, ROLLBACK): a hot path
    may turn it off and retry once on an invalidated connection instead. ``max_overflow`` connections
    beyond the pool are opened and closed per use: 0 makes callers wait for a pooled one instead."""
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=pre_ping)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def database_check(engine: AsyncEngine) -> ReadinessCheck:
    async def check() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return check


async def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if it does not exist; True if it was created."""
    target = make_url(url)
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if exists:
                return False
            await conn.execute(text(f'CREATE DATABASE "{target.database}"'))
            return True
    finally:
        await admin.dispose()
