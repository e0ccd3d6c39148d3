import pytest
from pydantic import ValidationError

from payments.config import (
    DEV_RASA_TOKEN,
    DEV_SERVICE_TOKEN,
    DEV_STRIPE_WEBHOOK_SECRET,
    DEV_TWILIO_AUTH_TOKEN,
    Settings,
)

PRODUCTION = dict(
    evenkeel_env="production",
    payments_service_token="a-real-service-token",
    rasa_auth_token="a-real-rasa-token",
    twilio_auth_token="a-real-twilio-token",
    database_url="postgresql+psycopg://evenkeel@db/evenkeel",
    stripe_api_key="sk_live_not_a_real_key",
    stripe_api_base="",
    stripe_webhook_secret="whsec_a_real_signing_secret",
    payments_public_url="https://pay.example.com",
)


def settings(**overrides) -> Settings:
    return Settings(_env_file=None, **{**PRODUCTION, **overrides})


def test_production_with_real_secrets_and_postgresql():
    assert settings().evenkeel_env == "production"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("payments_service_token", DEV_SERVICE_TOKEN, "PAYMENTS_SERVICE_TOKEN"),
        ("rasa_auth_token", DEV_RASA_TOKEN, "RASA_AUTH_TOKEN"),
        ("twilio_auth_token", DEV_TWILIO_AUTH_TOKEN, "TWILIO_AUTH_TOKEN"),
        ("stripe_webhook_secret", DEV_STRIPE_WEBHOOK_SECRET, "STRIPE_WEBHOOK_SECRET"),
        ("payments_service_token", "", "PAYMENTS_SERVICE_TOKEN"),
        ("rasa_auth_token", " ", "RASA_AUTH_TOKEN"),
        ("twilio_auth_token", "", "TWILIO_AUTH_TOKEN"),
        ("stripe_webhook_secret", "", "STRIPE_WEBHOOK_SECRET"),
        ("payments_public_url", "http://pay.example.com", "PAYMENTS_PUBLIC_URL"),
        ("payments_public_url", "http://127.0.0.1:8000", "PAYMENTS_PUBLIC_URL"),
        ("payments_public_url", "", "PAYMENTS_PUBLIC_URL"),
        ("stripe_api_key", "sk_test_localstripe", "STRIPE_API_KEY"),
        ("stripe_api_base", "http://127.0.0.1:8420", "STRIPE_API_BASE"),
        ("database_url", "sqlite:///var/evenkeel.db", "PostgreSQL"),
    ],
)
def test_production_refuses_development_settings(field, value, message):
    with pytest.raises(ValidationError, match=message):
        settings(**{field: value})


def test_local_accepts_the_development_defaults():
    local = settings(
        evenkeel_env="local",
        payments_service_token=DEV_SERVICE_TOKEN,
        rasa_auth_token=DEV_RASA_TOKEN,
        database_url="sqlite:///var/evenkeel.db",
        stripe_api_key="sk_test_localstripe",
        stripe_api_base="http://127.0.0.1:8420",
    )
    assert local.payments_service_token == DEV_SERVICE_TOKEN
