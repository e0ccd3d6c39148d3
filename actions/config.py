"""Action-server settings: a frozen dataclass read once from the environment.

Production (`EVENKEEL_ENV=production`) refuses the development secrets: the action server's
token (C3), the channel-facts key (C0) and the payments service token would otherwise be known
to anyone with the source.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from contracts.channel_facts import DEV_CHANNEL_FACTS_KEY

DEV_ACTION_SERVER_TOKEN = "dev-action-token"
DEV_PAYMENTS_SERVICE_TOKEN = "dev-service-token"


@dataclass(frozen=True)
class ActionSettings:
    payments_url: str = "http://127.0.0.1:8000"
    payments_service_token: str = DEV_PAYMENTS_SERVICE_TOKEN
    payments_timeout_seconds: float = 5.0
    disclosure_mode: str = "first_party"  # "first_party" (issuer) | "third_party" (collector)
    evenkeel_env: str = "local"  # local | test | production
    # The origin of our payment pages: the only host a link the bot sends may point to.
    payments_public_url: str = "http://127.0.0.1:8000"
    # Shared with the connectors (rasa server): they sign channel facts with it.
    channel_facts_key: str = DEV_CHANNEL_FACTS_KEY
    # Shared with rasa (bot/endpoints*.yml action_endpoint.token): /webhook needs it.
    action_server_token: str = DEV_ACTION_SERVER_TOKEN
    actions_host: str = "127.0.0.1"
    actions_port: int = 5055

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ActionSettings:
        env = dict(os.environ if env is None else env)
        settings = cls(
            payments_url=env.get("PAYMENTS_URL", cls.payments_url).rstrip("/"),
            payments_service_token=env.get("PAYMENTS_SERVICE_TOKEN", cls.payments_service_token),
            payments_timeout_seconds=float(env.get("PAYMENTS_TIMEOUT_SECONDS", cls.payments_timeout_seconds)),
            disclosure_mode=env.get("DISCLOSURE_MODE", cls.disclosure_mode),
            evenkeel_env=env.get("EVENKEEL_ENV", cls.evenkeel_env),
            payments_public_url=env.get("PAYMENTS_PUBLIC_URL", cls.payments_public_url).rstrip("/"),
            channel_facts_key=env.get("CHANNEL_FACTS_KEY", cls.channel_facts_key),
            action_server_token=env.get("ACTION_SERVER_TOKEN", cls.action_server_token),
            actions_host=env.get("ACTIONS_HOST", cls.actions_host),
            actions_port=int(env.get("ACTIONS_PORT", cls.actions_port)),
        )
        if settings.disclosure_mode not in ("first_party", "third_party"):
            raise ValueError(f"DISCLOSURE_MODE must be first_party or third_party, not {settings.disclosure_mode!r}")
        if settings.evenkeel_env == "production":
            settings.refuse_development_secrets()
        return settings

    def refuse_development_secrets(self) -> None:
        """Raise when a secret is empty or the development default (production only)."""
        for name, value, dev in (
            ("CHANNEL_FACTS_KEY", self.channel_facts_key, DEV_CHANNEL_FACTS_KEY),
            ("ACTION_SERVER_TOKEN", self.action_server_token, DEV_ACTION_SERVER_TOKEN),
            ("PAYMENTS_SERVICE_TOKEN", self.payments_service_token, DEV_PAYMENTS_SERVICE_TOKEN),
        ):
            if not value or value == dev:
                raise ValueError(f"{name} must be set to a secret of its own in production")


@lru_cache
def get_settings() -> ActionSettings:
    return ActionSettings.from_env()
