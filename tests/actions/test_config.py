"""Action-server settings: production refuses the development secrets."""

from __future__ import annotations

import pytest

from actions.config import DEV_ACTION_SERVER_TOKEN, ActionSettings
from contracts.channel_facts import DEV_CHANNEL_FACTS_KEY

REAL = {
    "EVENKEEL_ENV": "production",
    "CHANNEL_FACTS_KEY": "k" * 32,
    "ACTION_SERVER_TOKEN": "t" * 32,
    "PAYMENTS_SERVICE_TOKEN": "s" * 32,
}


def test_defaults_are_local_and_loopback() -> None:
    settings = ActionSettings.from_env({})
    assert settings.actions_host == "127.0.0.1" and settings.actions_port == 5055
    assert settings.channel_facts_key == DEV_CHANNEL_FACTS_KEY
    assert settings.action_server_token == DEV_ACTION_SERVER_TOKEN


def test_production_with_its_own_secrets_starts() -> None:
    settings = ActionSettings.from_env(
        {**REAL, "ACTIONS_HOST": "0.0.0.0", "PAYMENTS_PUBLIC_URL": "https://pay.example/"}
    )
    assert settings.actions_host == "0.0.0.0" and settings.payments_public_url == "https://pay.example"


@pytest.mark.parametrize(
    "name, value",
    [
        ("CHANNEL_FACTS_KEY", DEV_CHANNEL_FACTS_KEY),
        ("CHANNEL_FACTS_KEY", ""),
        ("ACTION_SERVER_TOKEN", DEV_ACTION_SERVER_TOKEN),
        ("ACTION_SERVER_TOKEN", ""),
        ("PAYMENTS_SERVICE_TOKEN", "dev-service-token"),
        ("PAYMENTS_SERVICE_TOKEN", ""),
    ],
)
def test_production_refuses_a_development_or_empty_secret(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        ActionSettings.from_env({**REAL, name: value})


def test_production_refuses_unset_secrets() -> None:
    with pytest.raises(ValueError):
        ActionSettings.from_env({"EVENKEEL_ENV": "production"})
