"""Registration settings (environment variables, see ``.env.example``)."""

from __future__ import annotations

from pydantic import Field

from common.settings import ServiceSettings


class RegistrationSettings(ServiceSettings):
    port: int = 8002
    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/congress",
        description="SQLAlchemy URL of the participant database (asyncpg driver).",
    )
    database_pool_size: int = Field(default=10, ge=1)
