"""Action-server settings: a frozen dataclass read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ActionSettings:
    payments_url: str = "http://127.0.0.1:8000"
    payments_service_token: str = "dev-service-token"
    payments_timeout_seconds: float = 5.0
    disclosure_mode: str = "first_party"  # "first_party" (issuer) | "third_party" (collector)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "ActionSettings":
        env = dict(os.environ if env is None else env)
        settings = cls(
            payments_url=env.get("PAYMENTS_URL", cls.payments_url).rstrip("/"),
            payments_service_token=env.get("PAYMENTS_SERVICE_TOKEN", cls.payments_service_token),
            payments_timeout_seconds=float(env.get("PAYMENTS_TIMEOUT_SECONDS", cls.payments_timeout_seconds)),
            disclosure_mode=env.get("DISCLOSURE_MODE", cls.disclosure_mode),
        )
        if settings.disclosure_mode not in ("first_party", "third_party"):
            raise ValueError(f"DISCLOSURE_MODE must be first_party or third_party, not {settings.disclosure_mode!r}")
        return settings


@lru_cache
def get_settings() -> ActionSettings:
    return ActionSettings.from_env()
