"""Ingress settings (environment variables, see ``.env.example``)."""

from __future__ import annotations

from pydantic import Field

from common.settings import RedisSettings, ServiceSettings


class IngressSettings(ServiceSettings, RedisSettings):
    port: int = 8000
    meta_app_secret: str = Field(default="dev-app-secret", description="Signs Meta webhooks.")
    meta_verify_token: str = Field(default="dev-verify-token", description="Meta GET handshake.")
    # Other gateways are mounted only when their credentials are set.
    evolution_webhook_token: str | None = Field(default=None, description="Enables /webhooks/evolution.")
    evolution_webhook_header: str = "X-Webhook-Token"
    # Evolution's native RabbitMQ output, consumed instead of (or beside) its webhooks.
    evolution_amqp_url: str | None = Field(default=None, description="Enables the RabbitMQ source.")
    evolution_amqp_exchange: str = "evolution_exchange"
    evolution_amqp_queue: str = "ingress.evolution.events"
    evolution_amqp_routing_key: str = "messages.*"
    zapi_webhook_token: str | None = Field(default=None, description="Enables /webhooks/zapi.")
    zapi_webhook_header: str = "X-Webhook-Token"
    whaticket_secret: str | None = Field(default=None, description="Enables /webhooks/whaticket.")
    whaticket_webhook_token: str | None = Field(default=None, description="Optional X-Webhook-Token.")
    whaticket_window_s: int = Field(default=300, gt=0, description="Replay window for X-Timestamp.")
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Per sender: a burst of this many messages, then this many per minute (0 turns it off).
    rate_limit_burst: int = Field(default=20, ge=0)
    rate_limit_per_minute: float = Field(default=30, ge=0)
    # Meta re-delivers a signed body for up to 7 days: remember what we accepted at least that long.
    dedupe_ttl_s: int = Field(default=8 * 24 * 3600, gt=0)

    def secrets_to_check(self) -> dict[str, str]:
        return {"META_APP_SECRET": self.meta_app_secret, "META_VERIFY_TOKEN": self.meta_verify_token}
