"""Settings of our connectors (SMS, voice, web chat, REST): a frozen dataclass read once from the
environment. With EVENKEEL_ENV=production, `from_env` refuses development secrets (and Twilio
without TWILIO_PUBLIC_BASE_URL), so rasa does not start; the properties below fail closed too.

`bot/credentials.yml` may override any field by its lower-case name (it passes PAYMENTS_URL and
PAYMENTS_SERVICE_TOKEN that way); everything else comes from the environment, so a fresh
checkout runs with the local defaults below (they match the payments service's, so the local
simulator `scripts/phone.py` signs webhooks both services accept). `.env.example` lists them all.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.channel_facts import DEV_CHANNEL_FACTS_KEY

DEV_TWILIO_AUTH_TOKEN = "dev-twilio-auth-token"
DEV_REST_CHANNEL_TOKEN = "dev-rest-token"
DEV_PAYMENTS_SERVICE_TOKEN = "dev-service-token"
TWILIO_API = "https://api.twilio.com"


@dataclass(frozen=True)
class ChannelSettings:
    # "production" turns a missing or development Twilio auth token, an empty public base URL or
    # the development channel-facts key into a refusal of every webhook, and disables REST.
    evenkeel_env: str = "local"

    # Signs the channel facts (channel, caller ID, call id) every connector puts into message
    # metadata; shared with the action server, which trusts only what it signed (contracts/).
    channel_facts_key: str = DEV_CHANNEL_FACTS_KEY
    # Bearer token of our REST connector (channels/rest.py: `make chat`, benchmarks, tests).
    rest_channel_token: str = DEV_REST_CHANNEL_TOKEN

    # Twilio account: webhook signatures (auth token) and outbound SMS (REST API).
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = DEV_TWILIO_AUTH_TOKEN
    # Empty: https://api.twilio.com. `scripts/phone.py` and the tests point it at a local stand-in.
    twilio_api_base: str = ""
    # Sender of SMS we push (agent replies, confirmations); replies to a text come from the number
    # the customer texted. A Messaging Service (where Advanced Opt-Out lives) wins when set.
    twilio_from_number: str = "+15005550006"
    twilio_messaging_service_sid: str = ""
    # The origin Twilio calls, e.g. https://bot.example.com (behind a proxy or tunnel): signatures
    # are checked against public base + path + query. Empty: the URL as the request arrived
    # (its Host header is the client's word), so production refuses every webhook without it.
    twilio_public_base_url: str = ""

    # Voice.
    twilio_pay_connector: str = "Stripe_Connector"
    twilio_workflow_sid: str = ""  # TaskRouter workflow for <Enqueue>; wins over the agent number
    twilio_agent_number: str = ""  # <Dial> target for a handoff when there is no workflow
    twilio_hold_music_url: str = ""  # <Play> while on hold; empty: silence (<Pause>)
    twilio_voice: str = "Polly.Joanna"
    twilio_voice_language: str = "en-US"
    twilio_speech_model: str = ""  # empty: Twilio's default

    # Payments service: the compliance ledger (STOP/START) and the <Pay> action URL.
    payments_url: str = "http://127.0.0.1:8000"
    payments_service_token: str = DEV_PAYMENTS_SERVICE_TOKEN
    payments_timeout_seconds: float = 5.0
    payments_public_url: str = "http://127.0.0.1:8000"

    # De-duplication and short-lived conversation state. Empty: in this process's memory (one
    # rasa process); a Redis URL (redis://host:6379/1) when several replicas share the traffic.
    channels_redis_url: str = ""
    channels_dedupe_ttl_seconds: int = 3600

    # Fixed SMS answer to HELP (carriers require one): who we are, how to reach a person, STOP.
    sms_help_text: str = (
        "Lakeside Bank card assistant: balance, payments and payment plans. For a person, reply "
        "AGENT or call 1-800-555-0199, 8am-9pm. Msg&data rates may apply. Reply STOP to opt out."
    )

    @property
    def twilio_api_url(self) -> str:
        return (self.twilio_api_base or TWILIO_API).rstrip("/")

    @property
    def production(self) -> bool:
        return self.evenkeel_env == "production"

    @property
    def signatures_usable(self) -> bool:
        """False without a real auth token, or in production without a public base URL: every
        webhook is then refused (fail closed)."""
        return not self.signature_problem

    @property
    def signature_problem(self) -> str:
        """Why Twilio signatures cannot be checked here (logged once), or ""."""
        if not self.twilio_auth_token:
            return "TWILIO_AUTH_TOKEN is empty"
        if self.production and self.twilio_auth_token == DEV_TWILIO_AUTH_TOKEN:
            return "TWILIO_AUTH_TOKEN is the development token in production"
        if self.production and not self.twilio_public_base_url:
            return "TWILIO_PUBLIC_BASE_URL is empty in production (the Host header would be trusted)"
        return ""

    def production_problems(self) -> list[str]:
        """Why these settings must not serve in production (empty elsewhere): a development secret
        (an unset one is its development default), or no public base URL for Twilio's signatures."""
        if not self.production:
            return []
        problems = []
        if self.twilio_auth_token in ("", DEV_TWILIO_AUTH_TOKEN):
            problems.append("TWILIO_AUTH_TOKEN is empty or the development token")
        if not self.twilio_public_base_url:
            problems.append("TWILIO_PUBLIC_BASE_URL is empty (signatures would be checked against the Host header)")
        if self.channel_facts_key in ("", DEV_CHANNEL_FACTS_KEY):
            problems.append("CHANNEL_FACTS_KEY is empty or the development key")
        if self.payments_service_token in ("", DEV_PAYMENTS_SERVICE_TOKEN):
            problems.append("PAYMENTS_SERVICE_TOKEN is empty or the development token")
        return problems

    @property
    def facts_key(self) -> str:
        """The key connectors sign channel facts with; "" (refuse every message) when it is empty,
        or the development key in production."""
        if self.production and self.channel_facts_key == DEV_CHANNEL_FACTS_KEY:
            return ""
        return self.channel_facts_key

    @property
    def rest_token(self) -> str:
        """The REST connector's token; "" (the connector refuses everything) in production, where
        the REST channel must not be reachable at all."""
        return "" if self.production else self.rest_channel_token

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
    ) -> ChannelSettings:
        """Each field from its upper-case environment variable (empty counts as unset);
        `overrides` (credentials.yml) win over the environment when they are not empty."""
        env = os.environ if env is None else env
        overrides = {k.lower(): v for k, v in (overrides or {}).items() if v not in (None, "")}
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = overrides.get(field.name, env.get(field.name.upper()))
            if raw is None or str(raw).strip() == "":  # empty means unset (docker-compose's ${VAR:-})
                continue
            if field.type in ("int", int):
                values[field.name] = int(raw)
            elif field.type in ("float", float):
                values[field.name] = float(raw)
            else:
                values[field.name] = str(raw).strip()
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown channel settings in credentials.yml: {sorted(unknown)}")
        settings = cls(**values)
        for url_field in ("payments_url", "payments_public_url", "twilio_public_base_url", "twilio_api_base"):
            value = getattr(settings, url_field)
            if value and not value.startswith(("http://", "https://")):
                raise ValueError(f"{url_field.upper()} must be an http(s) URL, not {value!r}")
        settings = dataclasses.replace(
            settings,
            payments_url=settings.payments_url.rstrip("/"),
            payments_public_url=settings.payments_public_url.rstrip("/"),
            twilio_public_base_url=settings.twilio_public_base_url.rstrip("/"),
        )
        problems = settings.production_problems()
        if problems:  # rasa loads the connectors at start-up: it refuses to start
            raise ValueError("channels refuse to run in production: " + "; ".join(problems))
        return settings
