"""Registration settings (environment variables, see ``.env.example``)."""

from __future__ import annotations

import base64

from pydantic import Field, SecretStr

from common.settings import DEV_CPF_HMAC_KEY, DEV_CPF_KEYS, ServiceSettings
from registration.capacity import Capacity
from registration.cpf_vault import CpfVault, parse_key_ring


class RegistrationSettings(ServiceSettings):
    port: int = 8002
    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/congress",
        description="SQLAlchemy URL of the participant database (asyncpg driver).",
    )
    database_pool_size: int = Field(
        default=20, ge=1, description="Database connections (no overflow): handlers beyond it wait for one."
    )
    cpf_encryption_keys: SecretStr = Field(
        default=SecretStr(DEV_CPF_KEYS),
        description="AES-256 key ring for CPFs: 'id:base64,id:base64' (old keys stay to decrypt).",
    )
    cpf_active_key_id: str = Field(default="k1", description="The ring key that encrypts new CPFs.")
    cpf_hmac_key: SecretStr = Field(
        default=SecretStr(DEV_CPF_HMAC_KEY),
        description="Base64 key of the CPF uniqueness HMAC (never rotate).",
    )
    code_prefix: str = Field(default="AGR", max_length=8, description="Prefix of registration codes.")
    capacity_total: int | None = Field(
        default=None, ge=0, description="Places of the event (unset: no limit); beyond it, a waitlist."
    )
    capacity_per_profile: dict[str, int] = Field(
        default_factory=dict,
        description='Places per profile, JSON: {"estudante": 200}; a profile not listed has no quota.',
    )
    outbox_batch_size: int = Field(
        default=100, ge=1, description="Events the relay publishes per transaction."
    )
    outbox_poll_interval_s: float = Field(
        default=1.0, gt=0, description="How often the relay looks for events committed by other replicas."
    )
    outbox_publish_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="The relay's wait for a publisher confirm. A confirm that comes after the wait "
        "gave up means the event is published again next round (a duplicate for subscribers to "
        "dedupe): under load a busy broker can take seconds, so this is long; the relay is off the "
        "request path.",
    )
    outbox_relay_hold_s: float = Field(
        default=0.0,
        ge=0,
        description="Test only: the relay's first round waits this long after start, so a test can "
        "kill the process between a commit and its publish.",
    )

    def secrets_to_check(self) -> dict[str, str]:
        return {
            "CPF_ENCRYPTION_KEYS": self.cpf_encryption_keys.get_secret_value(),
            "CPF_HMAC_KEY": self.cpf_hmac_key.get_secret_value(),
        }

    def capacity(self) -> Capacity:
        return Capacity(self.capacity_total, self.capacity_per_profile)

    def cpf_vault(self) -> CpfVault:
        ring = parse_key_ring(self.cpf_encryption_keys.get_secret_value())
        hmac_key = base64.b64decode(self.cpf_hmac_key.get_secret_value(), validate=True)
        return CpfVault(ring, self.cpf_active_key_id, hmac_key)
