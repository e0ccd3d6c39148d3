import pytest
from pydantic import ValidationError

from payments.config import (
    DEV_RASA_TOKEN,
    DEV_SERVICE_TOKEN,
    DEV_STRIPE_WEBHOOK_SECRET,
    DEV_TWILIO_AUTH_TOKEN,
    Settings,
    stripe_js_problems,
)

pytestmark = pytest.mark.usefixtures("no_stripe_env")

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


# --- derived settings: the Stripe stand-in's port moves the API base and the page's Stripe.js ---


def local(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_stripe_urls_follow_the_stand_in_port():
    moved = local(localstripe_port=9420)
    assert moved.stripe_api_base == "http://127.0.0.1:9420"
    assert moved.stripe_js_url == "http://127.0.0.1:9420/js.stripe.com/v3/"
    assert stripe_js_problems(moved) == []


def test_stripe_js_follows_an_explicit_api_base_and_real_stripe():
    assert local(stripe_api_base="http://10.0.0.7:8421/").stripe_js_url == "http://10.0.0.7:8421/js.stripe.com/v3/"
    real = local(stripe_api_base="")
    assert (real.stripe_api_base, real.stripe_js_url) == ("", "https://js.stripe.com/v3/")
    assert local(stripe_api_base="https://api.stripe.com").stripe_js_url == "https://js.stripe.com/v3/"


def test_an_empty_stripe_js_url_is_derived_and_an_explicit_one_is_kept(monkeypatch):
    monkeypatch.setenv("LOCALSTRIPE_PORT", "9555")
    monkeypatch.setenv("STRIPE_JS_URL", "")
    assert local().stripe_js_url == "http://127.0.0.1:9555/js.stripe.com/v3/"
    monkeypatch.setenv("STRIPE_JS_URL", "http://127.0.0.1:9555/js.stripe.com/v3/?v=2")
    assert local().stripe_js_url == "http://127.0.0.1:9555/js.stripe.com/v3/?v=2"


@pytest.mark.parametrize(
    ("values", "says"),
    [
        # The bug of issue 19: the stand-in moved, the page's script did not.
        (
            dict(localstripe_port=9420, stripe_js_url="http://127.0.0.1:8420/js.stripe.com/v3/"),
            "set it to http://127.0.0.1:9420/js.stripe.com/v3/",
        ),
        (dict(stripe_api_base="", stripe_js_url="http://127.0.0.1:8420/js.stripe.com/v3/"), "real Stripe API"),
        (dict(stripe_api_base="", stripe_js_url="http://js.stripe.com/v3/"), "set it to https://js.stripe.com/v3/"),
        (dict(stripe_js_url="js.stripe.com/v3/"), "is not an http(s) address"),
        (dict(stripe_js_url="ftp://127.0.0.1:8420/js.stripe.com/v3/"), "is not an http(s) address"),
    ],
)
def test_stripe_js_problems_say_what_to_fix(values, says):
    [problem] = stripe_js_problems(local(**values))
    assert says in problem and "STRIPE_JS_URL" in problem


def test_the_bank_on_the_payment_page_defaults_to_the_demo_issuer():
    assert (local().bank_name, local().bank_logo_url) == ("Lakeside Bank", "")
