"""The body of every service's migrations/env.py: run over the async engine of the configured URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def run(target_metadata: MetaData) -> None:
    config = context.config

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "")
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(online())
