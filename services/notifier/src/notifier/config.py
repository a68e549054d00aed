"""Notifier settings (environment variables, see ``.env.example``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from common.settings import RedisSettings, ServiceSettings


class NotifierSettings(ServiceSettings, RedisSettings):
    port: int = 8003
    whatsapp_provider: Literal["meta"] = Field(default="meta", description="Gateway used for sends.")
    meta_graph_url: str = Field(default="https://graph.facebook.com", description="Graph API base URL.")
    meta_graph_version: str = "v25.0"
    meta_access_token: str = "dev-access-token"  # noqa: S105 (refused in production)
    meta_phone_number_id: str = "dev-phone-number-id"
    send_timeout_s: float = Field(default=10.0, gt=0, description="One Graph API call.")
    send_attempts: int = Field(default=5, ge=1, description="Tries per send before dead-lettering.")
    send_backoff_max_s: float = Field(default=30.0, gt=0)
    # Remember sent commands longer than any redelivery or replay can take.
    sent_ttl_s: int = Field(default=8 * 24 * 3600, gt=0)

    # E-mail (SMTP), for confirmations.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "no-reply@congress-bot.example"

    def secrets_to_check(self) -> dict[str, str]:
        return {"META_ACCESS_TOKEN": self.meta_access_token}
