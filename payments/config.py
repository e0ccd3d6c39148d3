"""Typed settings for the payments service, read once from the environment (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Local defaults: usable on a laptop, refused in production (see `_refuse_dev_secrets`).
DEV_SERVICE_TOKEN = "dev-service-token"
DEV_RASA_TOKEN = "dev-rasa-token"
DEV_TWILIO_AUTH_TOKEN = "dev-twilio-auth-token"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_localstripe"  # the local Stripe stand-in's signing secret

# Stripe.js: the real one, and where the local stand-in (localstripe, testkit/stripe.py) serves its own.
STRIPE_JS_URL = "https://js.stripe.com/v3/"
LOCALSTRIPE_JS_PATH = "/js.stripe.com/v3/"


def _is_real_stripe(api_base: str) -> bool:
    """Whether the service talks to Stripe itself (empty base, or a stripe.com address)."""
    host = urlsplit(api_base).hostname or ""
    return not api_base or host == "stripe.com" or host.endswith(".stripe.com")


def stripe_js_url_for(api_base: str) -> str:
    """The Stripe.js a payment page needs when the service creates payments on `api_base`: the
    real one for real Stripe, else the stand-in's own copy (it sends the card back to itself)."""
    if _is_real_stripe(api_base):
        return STRIPE_JS_URL
    return api_base.rstrip("/") + LOCALSTRIPE_JS_PATH


class Settings(BaseSettings):
    """Every variable is listed in `.env.example`; names are the field names in upper case."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    evenkeel_env: str = "local"  # "local" | "test" | "production"
    database_url: str = "sqlite:///var/evenkeel.db"
    payments_service_token: str = DEV_SERVICE_TOKEN
    payments_public_url: str = "http://127.0.0.1:8000"

    verification_max_failures: int = 3
    verification_lock_minutes: int = 30  # the first lock-out; repeats within 24 h double it
    # A verification session (contract C2) ends this long after its last use, or this long after
    # the customer verified, whichever comes first.
    verification_idle_minutes: int = 15
    verification_session_max_minutes: int = 60

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_auth_token: str = DEV_RASA_TOKEN

    stripe_api_key: str = "sk_test_localstripe"
    # Derived when unset (`_derive_stripe_urls`): the API base from LOCALSTRIPE_PORT (the local
    # stand-in; an empty string is the real Stripe API), Stripe.js for the payment page from the
    # API base. Set either only to override; `stripe_js_problems` says when they disagree.
    localstripe_port: int = 8420
    stripe_api_base: str = "http://127.0.0.1:8420"
    stripe_js_url: str = "http://127.0.0.1:8420/js.stripe.com/v3/"
    stripe_publishable_key: str = "pk_test_localstripe"
    stripe_webhook_secret: str = DEV_STRIPE_WEBHOOK_SECRET
    payment_link_ttl_minutes: int = 30

    # Twilio: signatures of its webhooks (<Pay> results) and outbound SMS through its REST API.
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = DEV_TWILIO_AUTH_TOKEN
    twilio_from_number: str = "+15005550006"
    twilio_api_base: str = ""  # empty: api.twilio.com; tests point it at a local stand-in

    # Agent console (/console): a session ends after this long without a request, or this long
    # after sign-in, whichever comes first. Five wrong passwords for one username from one client
    # address lock that pair for a while (services/agents.py, SignInThrottle).
    console_idle_minutes: int = 30
    console_session_hours: int = 10
    console_lock_minutes: int = 15

    plan_policy_file: str = ""  # empty: payments/policy.default.toml

    # Background work (python -m payments scheduler).
    scheduler_interval_seconds: int = 60
    scheduler_heartbeat_file: str = ""  # touched after each pass, for health checks
    reminder_days_before_due: int = 3
    notification_max_attempts: int = 8

    log_level: str = "INFO"

    # The payment page: the name the customer knows (title, heading) and an optional logo (an
    # https URL, or a path on this service); DESIGN.md's demo issuer by default.
    bank_name: str = "Lakeside Bank"
    bank_logo_url: str = ""

    @model_validator(mode="before")
    @classmethod
    def _derive_stripe_urls(cls, data: Any) -> Any:
        """Fill STRIPE_API_BASE from LOCALSTRIPE_PORT and STRIPE_JS_URL from STRIPE_API_BASE when
        they are not set (an empty STRIPE_JS_URL counts as not set), so a stand-in on another port
        moves the page's script with it."""
        if not isinstance(data, dict):
            return data
        values = dict(data)
        if values.get("stripe_api_base") is None:
            values["stripe_api_base"] = f"http://127.0.0.1:{values.get('localstripe_port') or 8420}"
        if not values.get("stripe_js_url"):
            values["stripe_js_url"] = stripe_js_url_for(str(values["stripe_api_base"]))
        return values

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Settings:
        """In production, refuse to start with any development or empty secret, and without an
        https public URL (Twilio signs the https address it calls; links are sent on it)."""
        if self.evenkeel_env != "production":
            return self
        secrets = {
            "PAYMENTS_SERVICE_TOKEN": (self.payments_service_token, DEV_SERVICE_TOKEN),
            "RASA_AUTH_TOKEN": (self.rasa_auth_token, DEV_RASA_TOKEN),
            "TWILIO_AUTH_TOKEN": (self.twilio_auth_token, DEV_TWILIO_AUTH_TOKEN),
            "STRIPE_WEBHOOK_SECRET": (self.stripe_webhook_secret, DEV_STRIPE_WEBHOOK_SECRET),
        }
        for name, (value, development) in secrets.items():
            if not value.strip() or value == development:
                raise ValueError(f"{name} must be set to a real secret in production")
        if self.stripe_api_key == "sk_test_localstripe" or "127.0.0.1" in self.stripe_api_base:
            raise ValueError("STRIPE_API_KEY and STRIPE_API_BASE must name real Stripe in production")
        if self.database_url.startswith("sqlite"):
            raise ValueError("DATABASE_URL must point at PostgreSQL in production")
        if not self.payments_public_url.startswith("https://"):
            raise ValueError("PAYMENTS_PUBLIC_URL must be an https address in production")
        return self


def stripe_js_problems(settings: Settings) -> list[str]:
    """What stops the payment page's card form from loading, as sentences that say what to fix;
    empty when STRIPE_JS_URL is well formed and fits STRIPE_API_BASE. Pure: no network."""
    url, base = settings.stripe_js_url, settings.stripe_api_base
    expected = stripe_js_url_for(base)
    fix = f"Unset STRIPE_JS_URL (it then follows STRIPE_API_BASE) or set it to {expected}."
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"STRIPE_JS_URL {url!r} is not an http(s) address, so the payment page cannot load Stripe.js. {fix}"]
    if _is_real_stripe(base):
        if parts.scheme != "https" or parts.hostname != "js.stripe.com":
            return [
                f"STRIPE_JS_URL is {url}, but the service creates payments on the real Stripe API "
                f"(STRIPE_API_BASE {base or 'empty'}): its card form needs Stripe's own script. {fix}"
            ]
        return []
    origin = urlsplit(base)
    if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
        return [
            f"STRIPE_JS_URL is {url}, but the service creates payments on the Stripe stand-in at {base} "
            "(STRIPE_API_BASE, which follows LOCALSTRIPE_PORT): the card form would send cards to "
            f"another server. {fix}"
        ]
    return []


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings(...)` instead."""
    return Settings()
