"""Connector settings (channels/config.py) and their registration in bot/credentials.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.config import DEV_REST_CHANNEL_TOKEN, DEV_TWILIO_AUTH_TOKEN, ChannelSettings
from contracts.channel_facts import DEV_CHANNEL_FACTS_KEY

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_work_on_a_laptop() -> None:
    settings = ChannelSettings.from_env({})
    assert settings.twilio_auth_token == DEV_TWILIO_AUTH_TOKEN  # same default as the payments service
    assert settings.twilio_api_url == "https://api.twilio.com"
    assert settings.twilio_pay_connector == "Stripe_Connector"
    assert settings.channels_redis_url == ""  # in memory
    assert settings.signatures_usable
    assert "STOP" in settings.sms_help_text


def test_each_field_reads_its_upper_case_variable() -> None:
    settings = ChannelSettings.from_env(
        {
            "TWILIO_AUTH_TOKEN": "tok",
            "TWILIO_API_BASE": "http://127.0.0.1:8787/",
            "PAYMENTS_URL": "http://pay:8000/",
            "PAYMENTS_TIMEOUT_SECONDS": "2.5",
            "CHANNELS_DEDUPE_TTL_SECONDS": "60",
            "TWILIO_WORKFLOW_SID": "WW1",
            "TWILIO_PUBLIC_BASE_URL": "https://bot.example.com/",
            "PAYMENTS_PUBLIC_URL": "https://pay.example.com/",
        }
    )
    assert settings.twilio_auth_token == "tok"
    assert settings.twilio_api_url == "http://127.0.0.1:8787"
    assert settings.payments_url == "http://pay:8000"
    assert settings.payments_timeout_seconds == 2.5
    assert settings.channels_dedupe_ttl_seconds == 60
    assert settings.twilio_workflow_sid == "WW1"
    assert settings.twilio_public_base_url == "https://bot.example.com"
    assert settings.payments_public_url == "https://pay.example.com"


def test_credentials_override_the_environment_and_empty_values_count_as_unset() -> None:
    settings = ChannelSettings.from_env(
        {"PAYMENTS_URL": "http://env:1", "TWILIO_FROM_NUMBER": ""},
        overrides={"payments_url": "http://credentials:2", "payments_service_token": ""},
    )
    assert settings.payments_url == "http://credentials:2"
    assert settings.payments_service_token == "dev-service-token"
    assert settings.twilio_from_number == "+15005550006"


def test_unknown_credentials_and_bad_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        ChannelSettings.from_env({}, overrides={"auth_tokn": "x"})
    with pytest.raises(ValueError, match="PAYMENTS_URL"):
        ChannelSettings.from_env({"PAYMENTS_URL": "payments:8000"})


PRODUCTION = {
    "EVENKEEL_ENV": "production",
    "TWILIO_AUTH_TOKEN": "real",
    "TWILIO_PUBLIC_BASE_URL": "https://bot.example.com",
    "CHANNEL_FACTS_KEY": "real-facts-key",
    "REST_CHANNEL_TOKEN": "real-rest-token",
    "PAYMENTS_SERVICE_TOKEN": "real-service-token",
}


@pytest.mark.parametrize(
    "variable, value",
    [
        ("TWILIO_AUTH_TOKEN", DEV_TWILIO_AUTH_TOKEN),
        ("TWILIO_AUTH_TOKEN", ""),
        ("TWILIO_PUBLIC_BASE_URL", ""),
        ("CHANNEL_FACTS_KEY", DEV_CHANNEL_FACTS_KEY),
        ("CHANNEL_FACTS_KEY", ""),  # empty counts as unset: the development default
        ("PAYMENTS_SERVICE_TOKEN", "dev-service-token"),
    ],
)
def test_production_refuses_to_start_with_a_development_secret(variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=variable):
        ChannelSettings.from_env({**PRODUCTION, variable: value})


def test_production_with_real_secrets_starts() -> None:
    settings = ChannelSettings.from_env(PRODUCTION)
    assert settings.signatures_usable and settings.facts_key == "real-facts-key" and settings.rest_token == ""


def test_the_refusals_also_hold_at_request_time() -> None:
    """Settings built directly (not through from_env) still fail closed."""
    assert (
        "development token"
        in ChannelSettings(
            evenkeel_env="production",
            twilio_public_base_url="https://b.example",
            twilio_auth_token=DEV_TWILIO_AUTH_TOKEN,
        ).signature_problem
    )
    assert not ChannelSettings(twilio_auth_token="").signatures_usable
    no_base = ChannelSettings(evenkeel_env="production", twilio_auth_token="real")
    assert not no_base.signatures_usable and "TWILIO_PUBLIC_BASE_URL" in no_base.signature_problem
    assert ChannelSettings.from_env({"TWILIO_AUTH_TOKEN": "real"}).signatures_usable  # locally: the request URL
    assert ChannelSettings(evenkeel_env="production").facts_key == ""


def test_the_development_channel_facts_key_serves_locally() -> None:
    assert ChannelSettings.from_env({}).facts_key == DEV_CHANNEL_FACTS_KEY  # a laptop just works
    assert ChannelSettings.from_env(PRODUCTION).facts_key == "real-facts-key"


def test_the_rest_channel_has_a_development_token_and_none_in_production() -> None:
    assert ChannelSettings.from_env({}).rest_token == DEV_REST_CHANNEL_TOKEN
    assert ChannelSettings.from_env({"REST_CHANNEL_TOKEN": "t0k"}).rest_token == "t0k"
    assert ChannelSettings.from_env(PRODUCTION).rest_token == ""


def test_credentials_yml_registers_both_connectors(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.run import create_http_input_channels

    monkeypatch.setenv("PAYMENTS_URL", "http://payments.test:8000")
    monkeypatch.setenv("PAYMENTS_SERVICE_TOKEN", "from-env-token")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    channels = {
        channel.name(): channel for channel in create_http_input_channels(None, str(ROOT / "bot/credentials.yml"))
    }
    assert {"twilio_sms", "twilio_voice", "rest"} <= set(channels)
    assert type(channels["rest"]).__name__ == "TokenRestInput"  # never Rasa's bare `rest:`
    for name in ("twilio_sms", "twilio_voice"):
        settings = channels[name].settings
        assert settings.payments_url == "http://payments.test:8000"
        assert settings.payments_service_token == "from-env-token"
        assert settings.twilio_auth_token == "t"
        assert channels[name].get_output_channel() is not None
