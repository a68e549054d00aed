import pytest
from pydantic import ValidationError

from common.settings import ServiceSettings


class WithSecret(ServiceSettings):
    api_secret: str = "dev-app-secret"

    def secrets_to_check(self) -> dict[str, str]:
        return {"API_SECRET": self.api_secret}


def test_environment_wins_over_defaults(monkeypatch):
    monkeypatch.setenv("AMQP_URL", "amqp://u:p@broker:5672/v")
    monkeypatch.setenv("BROKER_PREFETCH", "7")
    settings = ServiceSettings()
    assert settings.amqp_url == "amqp://u:p@broker:5672/v"
    assert settings.broker_prefetch == 7


def test_production_refuses_development_secrets(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="API_SECRET"):
        WithSecret()
    monkeypatch.setenv("API_SECRET", "a-real-secret")
    assert WithSecret().api_secret == "a-real-secret"


def test_development_accepts_defaults(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert WithSecret().api_secret == "dev-app-secret"
