"""Ingress settings (environment variables, see ``.env.example``)."""

from __future__ import annotations

from pydantic import Field

from common.settings import RedisSettings, ServiceSettings


class IngressSettings(ServiceSettings, RedisSettings):
    port: int = 8000
    meta_app_secret: str = Field(default="dev-app-secret", description="Signs Meta webhooks.")
    meta_verify_token: str = Field(default="dev-verify-token", description="Meta GET handshake.")
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Meta re-delivers a signed body for up to 7 days: remember what we accepted at least that long.
    dedupe_ttl_s: int = Field(default=8 * 24 * 3600, gt=0)

    def secrets_to_check(self) -> dict[str, str]:
        return {"META_APP_SECRET": self.meta_app_secret, "META_VERIFY_TOKEN": self.meta_verify_token}
