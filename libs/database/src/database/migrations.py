"""Alembic migrations of one service's database: apply, generate, and wait for them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from database.engine import ensure_database


class Migrations:
    def __init__(self, script_location: Path) -> None:
        self._location = script_location

    def config(self, database_url: str) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self._location))
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
        config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
        return config

    def upgrade(self, database_url: str, revision: str = "head") -> None:
        """Create the database if missing, then migrate it to ``revision``."""
        asyncio.run(ensure_database(database_url))
        command.upgrade(self.config(database_url), revision)

    def make_revision(self, database_url: str, message: str) -> None:
        command.revision(self.config(database_url), message=message, autogenerate=True)

    def wait_migrated(self, database_url: str, timeout_s: float) -> bool:
        """Wait until the migration job brought the schema to this release's head (a pod's init step)."""
        head = ScriptDirectory.from_config(self.config(database_url)).get_current_head()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if asyncio.run(current_revision(database_url)) == head:
                return True
            time.sleep(2)
        return False


async def current_revision(database_url: str) -> str | None:
    """The schema's Alembic revision, or None while the database or its version table is missing."""
    engine = create_async_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            return None if revision is None else str(revision)
    except (OperationalError, DBAPIError, OSError):
        return None
    finally:
        await engine.dispose()
