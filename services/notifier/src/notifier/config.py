"""Notifier settings (environment variables, see ``.env.example``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from common.settings import RedisSettings, ServiceSettings
from notifier.outages import Patience
from notifier.retry_policy import RetryPolicy, parse_delays


class NotifierSettings(ServiceSettings, RedisSettings):
    port: int = 8003
    # Its own variable: `make run` and the tests give every service one environment, and
    # DATABASE_URL is registration's.
    notifier_database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/congress_notifier",
        description="SQLAlchemy URL of the delivery log (asyncpg driver).",
    )
    database_pool_size: int = Field(default=10, ge=1)
    notifier_admin_token: SecretStr = Field(
        default=SecretStr("dev-admin-token"), description="Bearer token of GET /deliveries."
    )
    send_timeout_s: float = Field(default=10.0, gt=0, description="One provider call.")
    notifier_retry_delays_s: str = Field(
        default="5,15,45,90,90",
        description="E-mail: wait before each retry (seed 004's tiers); one more failure gives up.",
    )
    notifier_whatsapp_retry_delays_s: str = Field(
        default="2,5,10,10,10,10,15,30,60,90,90",
        description="WhatsApp: wait before each retry; dense in the first minute, someone is waiting "
        "in the chat (5,15,45,90,90 restores seed 004's).",
    )
    notifier_retry_jitter: float = Field(default=0.2, ge=0, lt=1, description="Up to this share shorter.")
    notifier_outage_wait_s: float = Field(
        default=30.0, gt=0, description="Wait in place for the delivery log's database; then a retry tier."
    )
    notifier_unknown_resend_after_s: float = Field(
        default=120.0,
        ge=0,
        description="A Meta send a crash interrupted mid-call is sent again if no receipt says it went "
        "out within this long (Meta's 'sent' comes in seconds); 0: never resend (README).",
    )
    notifier_record_wait_s: float = Field(
        default=600.0, gt=0, description="Wait for the database to record a provider's answer."
    )
    rate_limit_business_per_s: int = Field(
        default=80, ge=0, description="Sends per second per business number (Meta's default; 0: off)."
    )
    rate_limit_recipient_per_minute: int = Field(
        default=60, ge=0, description="Sends per minute to one person (Meta's pair rate; 0: off)."
    )

    # Meta Cloud API.
    meta_graph_url: str = Field(default="https://graph.facebook.com", description="Graph API base URL.")
    meta_graph_version: str = "v25.0"
    meta_access_token: str = "dev-access-token"  # noqa: S105 (refused in production)
    meta_phone_number_id: str = "dev-phone-number-id"  # conversation's voice notes; sends use business_id
    meta_reengage_template: str | None = Field(
        default=None,
        description="Template sent instead of free text outside the 24-hour window (or on 131047).",
    )
    meta_reengage_template_language: str = "pt_BR"
    meta_typing_indicator: bool = Field(
        default=False,
        description="Show 'typing…' when marking a message read (until the reply, 25 s at most).",
    )
    notifier_mark_read: bool = Field(
        default=True, description="Mark every received message read through its gateway."
    )
    # Other gateways: a sender exists only when its credentials are set.
    evolution_api_url: str | None = None
    evolution_api_key: SecretStr | None = None
    zapi_api_url: str = "https://api.z-api.io"
    zapi_instance_token: SecretStr | None = None
    zapi_client_token: SecretStr | None = None
    whaticket_api_url: str | None = None
    whaticket_api_token: SecretStr | None = None

    # E-mail. Without SMTP_HOST every e-mail is written to the log instead (development).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: bool = Field(default=False, description="Implicit TLS (port 465).")
    smtp_starttls: bool | None = Field(default=None, description="None: when the server offers it.")
    smtp_from: str = "no-reply@congress-bot.example"
    event_file: Path = Field(
        default=Path("services/conversation/src/conversation/data/event.yaml"),
        description="The event file (dates, venue) shared with conversation.",
    )

    @field_validator("notifier_retry_delays_s", "notifier_whatsapp_retry_delays_s")
    @classmethod
    def _delays(cls, value: str) -> str:
        parse_delays(value)
        return value

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(parse_delays(self.notifier_retry_delays_s))

    def whatsapp_retry_policy(self) -> RetryPolicy:
        return RetryPolicy(parse_delays(self.notifier_whatsapp_retry_delays_s))

    def patience(self) -> Patience:
        return Patience(before_s=self.notifier_outage_wait_s, after_s=self.notifier_record_wait_s)

    def secrets_to_check(self) -> dict[str, str]:
        return {
            "META_ACCESS_TOKEN": self.meta_access_token,
            "NOTIFIER_ADMIN_TOKEN": self.notifier_admin_token.get_secret_value(),
        }
