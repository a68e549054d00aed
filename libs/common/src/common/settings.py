"""Settings every service shares; each service extends ``ServiceSettings`` with its own.

Variables set in the environment win over ``.env``; names follow the product brief.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Values that are fine on a laptop and must never reach production.
DEV_CPF_KEYS = "k1:ZGV2LW9ubHktY3BmLWVuY3J5cHRpb24ta2V5LTMyYiE="
DEV_CPF_HMAC_KEY = "ZGV2LW9ubHktY3BmLWhtYWMta2V5LTMyLWJ5dGVzISE="
INSECURE_DEFAULTS = frozenset(
    {
        "",
        "dev-app-secret",
        "dev-verify-token",
        "dev-access-token",
        "dev-admin-token",
        DEV_CPF_KEYS,
        DEV_CPF_HMAC_KEY,
    }
)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Environment = "development"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    host: str = "0.0.0.0"
    port: int = Field(default=8000, description="HTTP port for the API, /healthz, /readyz, /metrics.")
    broker_prefetch: int = Field(
        default=32, ge=1, description="Unacked messages a consumer may hold: bounds concurrency."
    )
    publish_timeout_s: float = Field(default=5.0, gt=0, description="Wait for a publisher confirm.")
    graceful_timeout_s: float = Field(
        default=15.0, gt=0, description="On SIGTERM, how long in-flight messages may take to finish."
    )
    readiness_timeout_s: float = Field(default=2.0, gt=0)
    gc_young_threshold: int = Field(
        default=20_000,
        ge=0,
        description="After start-up, collect garbage every N net allocations, the start-up heap "
        "frozen (common.heap); 0 keeps CPython's defaults.",
    )

    def secrets_to_check(self) -> dict[str, str]:
        """Secrets that must not keep a development default in production."""
        return {}

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> ServiceSettings:
        if self.environment == "production":
            weak = [name for name, value in self.secrets_to_check().items() if value in INSECURE_DEFAULTS]
            if weak:
                raise ValueError(f"insecure default in production for: {', '.join(sorted(weak))}")
        return self


class RedisSettings(BaseSettings):
    """Mixed into the settings of services that use Redis."""

    redis_url: str = "redis://127.0.0.1:6379/0"
